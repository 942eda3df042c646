<?php
/**
 * Plugin Name: Offline site (tests only)
 * Description: The test machine reaches no wordpress.org. WordPress's update checks would fail and
 * print a warning on every wp-admin page; this tells it the checks just ran and found nothing.
 */

foreach ( array( 'update_core', 'update_plugins', 'update_themes' ) as $liang_test_transient ) {
	add_filter(
		'pre_site_transient_' . $liang_test_transient,
		static function () {
			return (object) array(
				'last_checked'    => time(),
				'version_checked' => get_bloginfo( 'version' ),
				'updates'         => array(),
				'translations'    => array(),
				'response'        => array(),
				'checked'         => array(),
			);
		}
	);
}
remove_action( 'admin_init', '_maybe_update_core' );
remove_action( 'admin_init', '_maybe_update_plugins' );
remove_action( 'admin_init', '_maybe_update_themes' );
remove_action( 'wp_version_check', 'wp_version_check' );
// Plugins → Add New lists wordpress.org's plugins and tags: none here, quietly.
add_filter(
	'plugins_api',
	static function ( $result, $action ) {
		if ( 'query_plugins' === $action ) {
			return (object) array(
				'info'    => array(
					'page'    => 1,
					'pages'   => 0,
					'results' => 0,
				),
				'plugins' => array(),
			);
		}
		return 'hot_tags' === $action ? array() : $result;
	},
	10,
	2
);
