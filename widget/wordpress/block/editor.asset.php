<?php
/**
 * Scripts the block editor needs before editor.js (no build step: editor.js is plain JavaScript).
 *
 * @package LiangshenfenBadge
 */

defined( 'ABSPATH' ) || exit;

return array(
	'dependencies' => array( 'wp-blocks', 'wp-element', 'wp-components', 'wp-block-editor', 'wp-server-side-render' ),
	'version'      => '1.0.0',
);
