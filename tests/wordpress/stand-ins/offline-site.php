<?php
/**
 * Plugin Name: Offline site (tests only)
 * Description: The test machine reaches no wordpress.org. WordPress's update checks would fail and
 * print a warning on wp-admin pages; this answers them, here, with "nothing new".
 */

add_filter(
	'pre_http_request',
	static function ( $preempt, $args, $url ) {
		$host = (string) wp_parse_url( $url, PHP_URL_HOST );
		if ( 'wordpress.org' !== $host && ! str_ends_with( $host, '.wordpress.org' ) ) {
			return $preempt;
		}
		$feed = str_contains( (string) wp_parse_url( $url, PHP_URL_PATH ), '/feed' );
		return array(
			'headers'  => array( 'content-type' => 'application/json' ),
			'body'     => $feed ? '' : '{"plugins":[],"themes":[],"translations":[],"no_update":[],"offers":[]}',
			'response' => array(
				'code'    => $feed ? 404 : 200,
				'message' => $feed ? 'Not Found' : 'OK',
			),
			'cookies'  => array(),
			'filename' => null,
		);
	},
	10,
	3
);

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
