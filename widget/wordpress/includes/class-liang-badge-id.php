<?php
/**
 * Badge ids, read the way the service reads them.
 *
 * @package LiangshenfenBadge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Parses badge ids: any case, hyphens and spaces optional, I/L read as 1 and O as 0.
 */
final class Liang_Badge_Id {

	/** Crockford base32, as the service writes ids. */
	const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

	/** Symbols in an id (60 bits). */
	const LENGTH = 12;

	/** Longer input is refused before any work, as the service does. */
	const MAX_RAW = 64;

	/**
	 * Return the id grouped as XXXX-XXXX-XXXX, or null when it is not a badge id.
	 *
	 * @param mixed $raw What the shop owner typed or a shortcode attribute held.
	 */
	public static function normalize( $raw ): ?string {
		if ( ! is_string( $raw ) || strlen( $raw ) > self::MAX_RAW ) {
			return null;
		}
		// Trim what Python's str.strip() trims (the service's parser), then drop the separators.
		$trimmed = preg_replace( '/^[\s\p{Z}\x{85}\x{1C}-\x{1F}]+|[\s\p{Z}\x{85}\x{1C}-\x{1F}]+$/u', '', $raw );
		if ( ! is_string( $trimmed ) ) {
			return null; // Not UTF-8.
		}
		$text = str_replace( array( '-', ' ', "\t" ), '', $trimmed );
		// ASCII only: a look-alike letter from another script must never name a real badge.
		if ( '' === $text || preg_match( '/[^\x21-\x7E]/', $text ) ) {
			return null;
		}
		$text = strtr( strtoupper( $text ), array( 'I' => '1', 'L' => '1', 'O' => '0' ) );
		if ( strlen( $text ) !== self::LENGTH || strspn( $text, self::ALPHABET ) !== self::LENGTH ) {
			return null;
		}
		return substr( $text, 0, 4 ) . '-' . substr( $text, 4, 4 ) . '-' . substr( $text, 8, 4 );
	}

	/**
	 * Return the service's base URL without a trailing slash, or '' when it is not an http(s) URL.
	 *
	 * @param mixed $raw The configured address of the service.
	 */
	public static function service_url( $raw ): string {
		if ( ! is_string( $raw ) ) {
			return '';
		}
		$url = rtrim( trim( $raw ), '/' );
		if ( ! preg_match( '#^https?://[^/?\#\s]+(/[^?\#\s]*)?$#i', $url ) ) {
			return '';
		}
		return $url;
	}

	/**
	 * Return whether $host is one of the badge's bound hosts (a host also covers its www. twin).
	 *
	 * @param string   $host  This site's host name.
	 * @param string[] $hosts The badge's bound hosts, as the service lists them.
	 */
	public static function host_is_bound( string $host, array $hosts ): bool {
		$host = rtrim( strtolower( $host ), '.' );
		if ( '' === $host ) {
			return false;
		}
		$bare  = str_starts_with( $host, 'www.' ) ? substr( $host, 4 ) : $host;
		$bound = array_map( 'strtolower', array_filter( $hosts, 'is_string' ) );
		return in_array( $host, $bound, true ) || in_array( $bare, $bound, true ) || in_array( 'www.' . $bare, $bound, true );
	}
}
