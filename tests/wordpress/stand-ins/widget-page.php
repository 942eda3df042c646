<?php
/**
 * Plugin Name: Widget page (tests only)
 * Description: The block theme Debian ships (Twenty Twenty-Three) has no widget areas; on
 * ?liang_widget=1 this renders the plugin's classic widget with the_widget(), as a sidebar would.
 */

add_action(
	'template_redirect',
	static function () {
		if ( ! isset( $_GET['liang_widget'] ) || ! class_exists( 'Liang_Badge_Widget' ) ) { // phpcs:ignore WordPress.Security.NonceVerification
			return;
		}
		echo '<!doctype html><html><head><meta charset="utf-8"><title>widget</title></head><body><aside>';
		the_widget(
			'Liang_Badge_Widget',
			array( 'title' => 'Verified shop' ),
			array(
				'before_widget' => '<section class="widget">',
				'after_widget'  => '</section>',
				'before_title'  => '<h2>',
				'after_title'   => '</h2>',
			)
		);
		echo '</aside></body></html>';
		exit;
	}
);
