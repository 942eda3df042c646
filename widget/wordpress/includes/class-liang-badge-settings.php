<?php
/**
 * The plugin's one option, its defaults and its sanitising.
 *
 * @package LiangshenfenBadge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Reads and cleans the settings (option `liangshenfen_badge_options`).
 */
final class Liang_Badge_Settings {

	const OPTION = 'liangshenfen_badge_options';

	/** Default cache lifetime in seconds (5 minutes). */
	const DEFAULT_TTL = 300;

	/** Shortest cache lifetime accepted, so a mistyped 0 cannot ask the service on every page view. */
	const MIN_TTL = 5;

	/** Longest cache lifetime accepted (an hour); the service's status list ttl caps it further. */
	const MAX_TTL = 3600;

	const STYLES = array( 'image', 'widget', 'link' );

	/** Image sizes in pixels, as the service draws them. */
	const SIZES = array(
		's' => array( 320, 200 ),
		'm' => array( 480, 300 ),
		'l' => array( 800, 500 ),
	);

	const PLACEMENTS = array( 'footer', 'product', 'cart', 'checkout' );

	/**
	 * Return the defaults: the pre-filled badge and service from config.php, the rest fixed.
	 */
	public static function defaults(): array {
		$config = array();
		$file   = LIANG_BADGE_DIR . '/config.php';
		if ( is_readable( $file ) ) {
			$loaded = include $file;
			$config = is_array( $loaded ) ? $loaded : array();
		}
		return array(
			'badge_id'    => (string) ( Liang_Badge_Id::normalize( $config['badge_id'] ?? '' ) ?? '' ),
			'service_url' => Liang_Badge_Id::service_url( $config['service_url'] ?? '' ),
			'style'       => 'image',
			'size'        => 'm',
			'ttl'         => self::DEFAULT_TTL,
			'footer'      => true,
			'product'     => false,
			'cart'        => false,
			'checkout'    => false,
		);
	}

	/**
	 * Return the settings in force: the saved ones over the defaults.
	 */
	public static function get(): array {
		$saved = get_option( self::OPTION, array() );
		return array_merge( self::defaults(), is_array( $saved ) ? $saved : array() );
	}

	/**
	 * Store the defaults on first activation; a re-activation keeps what the owner set.
	 */
	public static function activate(): void {
		add_option( self::OPTION, self::defaults() );
	}

	/**
	 * Clean what the settings form sent (the Settings API's sanitize_callback).
	 *
	 * @param mixed $input The submitted values.
	 */
	public static function sanitize( $input ): array {
		$input   = is_array( $input ) ? $input : array();
		$current = self::get();
		$clean   = $current;

		$raw_id = isset( $input['badge_id'] ) ? (string) $input['badge_id'] : '';
		$id     = Liang_Badge_Id::normalize( $raw_id );
		if ( '' === trim( $raw_id ) ) {
			$clean['badge_id'] = '';
		} elseif ( null === $id ) {
			self::error( 'badge_id', __( 'That is not a badge number. A badge number has 12 letters and digits, like 7K3M-9QX2-HT4B.', 'liangshenfen-badge' ) );
		} else {
			$clean['badge_id'] = $id;
		}

		$url = Liang_Badge_Id::service_url( $input['service_url'] ?? '' );
		if ( '' === $url ) {
			self::error( 'service_url', __( 'The service address must start with https:// or http://.', 'liangshenfen-badge' ) );
		} else {
			$clean['service_url'] = $url;
		}

		$style          = (string) ( $input['style'] ?? '' );
		$clean['style'] = in_array( $style, self::STYLES, true ) ? $style : 'image';
		$size           = (string) ( $input['size'] ?? '' );
		$clean['size']  = isset( self::SIZES[ $size ] ) ? $size : 'm';
		$clean['ttl']   = self::clamp_ttl( $input['ttl'] ?? self::DEFAULT_TTL );
		foreach ( self::PLACEMENTS as $place ) {
			$clean[ $place ] = ! empty( $input[ $place ] );
		}
		if ( $clean['badge_id'] !== $current['badge_id'] || $clean['service_url'] !== $current['service_url'] || $clean['ttl'] !== $current['ttl'] ) {
			Liang_Badge_Status::forget_all();
		}
		return $clean;
	}

	/**
	 * Return a cache lifetime within the accepted range.
	 *
	 * @param mixed $value Seconds, as typed.
	 */
	public static function clamp_ttl( $value ): int {
		$seconds = is_numeric( $value ) ? (int) $value : self::DEFAULT_TTL;
		return max( self::MIN_TTL, min( self::MAX_TTL, $seconds ) );
	}

	/**
	 * Report a refused value on the settings page.
	 *
	 * @param string $field   The field's key.
	 * @param string $message What to tell the owner.
	 */
	private static function error( string $field, string $message ): void {
		if ( function_exists( 'add_settings_error' ) ) {
			add_settings_error( self::OPTION, 'liang-' . $field, $message );
		}
	}
}
