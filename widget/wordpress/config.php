<?php
/**
 * Defaults for a fresh installation. The zip downloaded from a badge's embed kit carries this
 * file with the badge's id and the service's address filled in, so activation is the whole set-up.
 *
 * @package LiangshenfenBadge
 */

defined( 'ABSPATH' ) || exit;

return array(
	'badge_id'    => '',
	'service_url' => '',
);
