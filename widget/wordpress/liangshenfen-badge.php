<?php
/**
 * Plugin Name:       Liangshenfen Badge
 * Description:       Shows your live Liangshenfen (亮身份) party-member merchant badge on your shop: in the footer, on WooCommerce product, cart and checkout pages, or wherever you put the shortcode, block or widget.
 * Version:           1.0.0
 * Requires at least: 6.1
 * Requires PHP:      8.1
 * Author:            Liangshenfen
 * License:           GPL-2.0-or-later
 * License URI:       https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:       liangshenfen-badge
 * Domain Path:       /languages
 *
 * @package LiangshenfenBadge
 */

defined( 'ABSPATH' ) || exit;

define( 'LIANG_BADGE_VERSION', '1.0.0' );
define( 'LIANG_BADGE_FILE', __FILE__ );
define( 'LIANG_BADGE_DIR', __DIR__ );

require_once __DIR__ . '/includes/class-liang-badge-id.php';
require_once __DIR__ . '/includes/class-liang-badge-settings.php';
require_once __DIR__ . '/includes/class-liang-badge-status.php';
require_once __DIR__ . '/includes/class-liang-badge-render.php';
require_once __DIR__ . '/includes/class-liang-badge-plugin.php';

register_activation_hook( __FILE__, array( 'Liang_Badge_Settings', 'activate' ) );
Liang_Badge_Plugin::boot();
