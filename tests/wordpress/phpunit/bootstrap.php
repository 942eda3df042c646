<?php
/**
 * Runs the plugin's own logic without WordPress: the few WordPress functions it calls, as
 * small stand-ins (escaping as WordPress escapes, transients and options in memory, a clock).
 */

error_reporting( E_ALL );
set_error_handler(
	static function ( int $level, string $message, string $file, int $line ): bool {
		// Any notice or warning fails the test: none may reach a shop's page.
		throw new ErrorException( $message, 0, $level, $file, $line );
	}
);

define( 'ABSPATH', __DIR__ . '/' );
define( 'LIANG_BADGE_DIR', getenv( 'LIANG_PLUGIN_DIR' ) ?: dirname( __DIR__, 3 ) . '/widget/wordpress' );
define( 'LIANG_BADGE_FILE', LIANG_BADGE_DIR . '/liangshenfen-badge.php' );
define( 'LIANG_BADGE_VERSION', '1.0.0' );

/** The stand-ins' state, reset by each test. */
final class WP {
	public static int $now = 1_800_000_000;
	public static array $options = array();
	public static array $transients = array();
	public static array $errors = array();
	public static array $scripts = array();

	public static function reset(): void {
		self::$now        = 1_800_000_000;
		self::$options    = array();
		self::$transients = array();
		self::$errors     = array();
		self::$scripts    = array();
	}
}

class WP_Error {
	public function __construct( public string $code = '', public string $message = '' ) {}
}

function is_wp_error( $thing ): bool {
	return $thing instanceof WP_Error;
}

function esc_html( $text ): string {
	return htmlspecialchars( (string) $text, ENT_QUOTES, 'UTF-8' );
}

function esc_attr( $text ): string {
	return htmlspecialchars( (string) $text, ENT_QUOTES, 'UTF-8' );
}

function esc_url( $url ): string {
	$url = (string) $url;
	if ( ! preg_match( '#^https?://#i', $url ) ) {
		return '';
	}
	return str_replace( array( '"', "'", '<', '>', ' ' ), array( '%22', '&#039;', '%3C', '%3E', '%20' ), $url );
}

function __( $text, $domain = 'default' ) {
	return $text;
}

function esc_html__( $text, $domain = 'default' ) {
	return esc_html( $text );
}

function sanitize_html_class( $class ): string {
	return preg_replace( '/[^A-Za-z0-9_-]/', '', (string) $class );
}

function wp_enqueue_script( ...$args ): void {
	WP::$scripts[] = $args;
}

function add_settings_error( $setting, $code, $message ): void {
	WP::$errors[] = $code;
}

function get_option( $name, $default = false ) {
	return WP::$options[ $name ] ?? $default;
}

function update_option( $name, $value, $autoload = null ): bool {
	WP::$options[ $name ] = $value;
	return true;
}

function add_option( $name, $value ): bool {
	if ( ! isset( WP::$options[ $name ] ) ) {
		WP::$options[ $name ] = $value;
	}
	return true;
}

function delete_option( $name ): bool {
	unset( WP::$options[ $name ] );
	return true;
}

function set_transient( $name, $value, $expiration ): bool {
	WP::$transients[ $name ] = array( $value, WP::$now + (int) $expiration );
	return true;
}

function get_transient( $name ) {
	if ( ! isset( WP::$transients[ $name ] ) ) {
		return false;
	}
	// Deliberately lax, like a persistent object cache that keeps entries past their time:
	// the plugin must check the expiry it stored itself.
	return WP::$transients[ $name ][0];
}

function delete_transient( $name ): bool {
	unset( WP::$transients[ $name ] );
	return true;
}

function wp_remote_retrieve_response_code( $response ) {
	return $response['response']['code'] ?? '';
}

function wp_remote_retrieve_body( $response ) {
	return $response['body'] ?? '';
}

function wp_remote_retrieve_header( $response, $header ) {
	foreach ( $response['headers'] ?? array() as $name => $value ) {
		if ( strtolower( $name ) === strtolower( $header ) ) {
			return $value;
		}
	}
	return '';
}

require_once LIANG_BADGE_DIR . '/includes/class-liang-badge-id.php';
require_once LIANG_BADGE_DIR . '/includes/class-liang-badge-settings.php';
require_once LIANG_BADGE_DIR . '/includes/class-liang-badge-status.php';
require_once LIANG_BADGE_DIR . '/includes/class-liang-badge-render.php';
require_once LIANG_BADGE_DIR . '/includes/class-liang-badge-admin.php';
