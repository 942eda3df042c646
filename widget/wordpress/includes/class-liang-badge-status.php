<?php
/**
 * The badge's live state, asked from the service server-side and kept for a short while.
 *
 * @package LiangshenfenBadge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Asks `GET <service>/api/v1/badges/<id>` and caches the answer in a transient.
 */
final class Liang_Badge_Status {

	/** Seconds the plugin waits for the service, at most (the page waits no longer). */
	const TIMEOUT = 3;

	/** Seconds an unanswered request is remembered, so a down service does not slow every page. */
	const UNREACHABLE_TTL = 60;

	/** The states the service publishes; anything else is read as not valid. */
	const STATES = array( 'valid', 'expired', 'not_yet_valid', 'suspended', 'revoked' );

	/** Response header carrying the status list's ttl, which caps the cache lifetime. */
	const TTL_HEADER = 'liang-status-list-ttl';

	const PREFIX = 'liang_badge_';

	/** Names of the transients this plugin set, so settings changes and uninstall can remove them. */
	const KEYS_OPTION = 'liangshenfen_badge_cache_keys';

	/** @var callable(string, array): mixed */
	private $http;

	/** @var callable(): int */
	private $clock;

	/**
	 * @param callable|null $http  Does the GET (defaults to wp_remote_get).
	 * @param callable|null $clock Returns the time in seconds (defaults to time).
	 */
	public function __construct( ?callable $http = null, ?callable $clock = null ) {
		$this->http  = $http ?? 'wp_remote_get';
		$this->clock = $clock ?? 'time';
	}

	/**
	 * Return the transient name for one badge at one service.
	 *
	 * @param string $service The service's base URL.
	 * @param string $id      The grouped badge id.
	 */
	public static function key( string $service, string $id ): string {
		return self::PREFIX . md5( $service . '|' . $id );
	}

	/**
	 * Return the badge's state: cached when fresh, else asked now and cached.
	 *
	 * The answer: `state` (one of STATES, `unknown` for a badge the service does not know, or
	 * `unreachable`), `hosts`, `shop`, `list_ttl`, `fetched_at`, `expires`.
	 *
	 * @param string $service The service's base URL.
	 * @param string $id      The grouped badge id.
	 * @param int    $ttl     The cache lifetime set by the owner, in seconds.
	 */
	public function get( string $service, string $id, int $ttl ): array {
		$now    = (int) call_user_func( $this->clock );
		$key    = self::key( $service, $id );
		$cached = get_transient( $key );
		// The expiry is kept in the value too: an object cache may hold a transient longer than asked.
		if ( is_array( $cached ) && isset( $cached['expires'], $cached['state'] ) && (int) $cached['expires'] > $now ) {
			return $cached;
		}
		$answer   = $this->fetch( $service, $id );
		$lifetime = self::lifetime( $answer, $ttl );
		$answer['fetched_at'] = $now;
		$answer['expires']    = $now + $lifetime;
		set_transient( $key, $answer, $lifetime );
		self::remember( $key );
		return $answer;
	}

	/**
	 * Return how long an answer may be kept: the owner's setting, never longer than the status
	 * list's ttl the service advertises, and only briefly when the service did not answer.
	 *
	 * @param array $answer What fetch() returned.
	 * @param int   $ttl    The owner's setting, in seconds.
	 */
	public static function lifetime( array $answer, int $ttl ): int {
		$lifetime = max( 1, $ttl );
		$list_ttl = (int) ( $answer['list_ttl'] ?? 0 );
		if ( $list_ttl > 0 ) {
			$lifetime = min( $lifetime, $list_ttl );
		}
		if ( 'unreachable' === ( $answer['state'] ?? '' ) ) {
			$lifetime = min( $lifetime, self::UNREACHABLE_TTL );
		}
		return $lifetime;
	}

	/**
	 * Ask the service now (no cache) and return the answer.
	 *
	 * @param string $service The service's base URL.
	 * @param string $id      The grouped badge id.
	 */
	public function fetch( string $service, string $id ): array {
		$unreachable = array(
			'state'    => 'unreachable',
			'hosts'    => array(),
			'shop'     => '',
			'list_ttl' => 0,
		);
		$response    = call_user_func(
			$this->http,
			$service . '/api/v1/badges/' . rawurlencode( $id ),
			array(
				'timeout'     => self::TIMEOUT,
				'redirection' => 0,
				// No site address in the user agent: the service learns nothing about who asks.
				'user-agent'  => 'Liangshenfen-Badge/' . LIANG_BADGE_VERSION,
				'headers'     => array( 'Accept' => 'application/json' ),
			)
		);
		if ( is_wp_error( $response ) || ! is_array( $response ) ) {
			return $unreachable;
		}
		$code = (int) wp_remote_retrieve_response_code( $response );
		if ( 404 === $code || 400 === $code ) {
			return array_merge( $unreachable, array( 'state' => 'unknown' ) );
		}
		if ( 200 !== $code ) {
			return $unreachable;
		}
		$body = json_decode( (string) wp_remote_retrieve_body( $response ), true );
		if ( ! is_array( $body ) || ! isset( $body['status'] ) || ! is_string( $body['status'] ) ) {
			return $unreachable;
		}
		$shop  = isset( $body['shop'] ) && is_array( $body['shop'] ) ? $body['shop'] : array();
		$hosts = isset( $shop['hosts'] ) && is_array( $shop['hosts'] ) ? array_values( array_filter( $shop['hosts'], 'is_string' ) ) : array();
		return array(
			// An unexpected word is never read as valid.
			'state'    => in_array( $body['status'], self::STATES, true ) ? $body['status'] : 'unknown',
			'hosts'    => $hosts,
			'shop'     => isset( $shop['name'] ) && is_string( $shop['name'] ) ? $shop['name'] : '',
			'list_ttl' => (int) wp_remote_retrieve_header( $response, self::TTL_HEADER ),
		);
	}

	/**
	 * Drop the cached answer for one badge.
	 *
	 * @param string $service The service's base URL.
	 * @param string $id      The grouped badge id.
	 */
	public static function forget( string $service, string $id ): void {
		delete_transient( self::key( $service, $id ) );
	}

	/**
	 * Drop every cached answer this plugin stored.
	 */
	public static function forget_all(): void {
		$keys = get_option( self::KEYS_OPTION, array() );
		foreach ( is_array( $keys ) ? $keys : array() as $key ) {
			if ( is_string( $key ) ) {
				delete_transient( $key );
			}
		}
		delete_option( self::KEYS_OPTION );
	}

	/**
	 * Note a transient's name (bounded: a site shows a handful of badges).
	 *
	 * @param string $key The transient's name.
	 */
	private static function remember( string $key ): void {
		$keys = get_option( self::KEYS_OPTION, array() );
		$keys = is_array( $keys ) ? $keys : array();
		if ( ! in_array( $key, $keys, true ) ) {
			$keys[] = $key;
			update_option( self::KEYS_OPTION, array_slice( $keys, -50 ), false );
		}
	}
}
