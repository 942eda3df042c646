<?php
/**
 * Removes everything the plugin stored: its options, its cached badge states, its widgets' settings.
 *
 * @package LiangshenfenBadge
 */

defined( 'WP_UNINSTALL_PLUGIN' ) || exit;

/**
 * Remove the plugin's data from the current site.
 */
function liangshenfen_badge_uninstall_site() {
	global $wpdb;
	$keys = get_option( 'liangshenfen_badge_cache_keys', array() );
	foreach ( is_array( $keys ) ? $keys : array() as $key ) {
		if ( is_string( $key ) ) {
			delete_transient( $key );
		}
	}
	delete_option( 'liangshenfen_badge_cache_keys' );
	delete_option( 'liangshenfen_badge_options' );
	delete_option( 'widget_liangshenfen_badge' );
	// Transients whose names were not recorded (the list is bounded): by prefix.
	$wpdb->query( // phpcs:ignore WordPress.DB.DirectDatabaseQuery
		$wpdb->prepare(
			"DELETE FROM {$wpdb->options} WHERE option_name LIKE %s OR option_name LIKE %s",
			$wpdb->esc_like( '_transient_liang_badge_' ) . '%',
			$wpdb->esc_like( '_transient_timeout_liang_badge_' ) . '%'
		)
	);
}

if ( is_multisite() ) {
	foreach ( get_sites( array( 'fields' => 'ids' ) ) as $liangshenfen_site ) {
		switch_to_blog( $liangshenfen_site );
		liangshenfen_badge_uninstall_site();
		restore_current_blog();
	}
} else {
	liangshenfen_badge_uninstall_site();
}
