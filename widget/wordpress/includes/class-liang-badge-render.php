<?php
/**
 * The badge's HTML, for the footer, WooCommerce pages, the shortcode, the block and the widget.
 *
 * @package LiangshenfenBadge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Turns a badge's state into HTML. Everything printed is escaped here.
 */
final class Liang_Badge_Render {

	/**
	 * Return the badge's HTML, or '' when there is nothing honest to show.
	 *
	 * A valid badge shows in the chosen style; a badge in any other state shows nothing; when the
	 * service could not be asked, a plain text link to the verify page (never an image that would
	 * claim a state the plugin could not check).
	 *
	 * @param array  $status  What Liang_Badge_Status::get() returned.
	 * @param string $service The service's base URL.
	 * @param string $id      The grouped badge id.
	 * @param string $style   image, widget or link.
	 * @param string $size    s, m or l.
	 * @param string $place   Where it is shown (footer, product, cart, checkout, shortcode, block, widget).
	 */
	public static function html( array $status, string $service, string $id, string $style, string $size, string $place ): string {
		$verify = $service . '/v/' . $id;
		$state  = (string) ( $status['state'] ?? 'unreachable' );
		$class  = 'liang-badge liang-badge-' . sanitize_html_class( $place );
		// The footer has no theme box around it: centre the badge and keep it off the screen's edges.
		$box  = 'footer' === $place ? ' style="box-sizing:border-box;max-width:100%;padding:1em;text-align:center"' : '';
		$open = '<div class="' . esc_attr( $class ) . '"' . $box . '>';
		if ( 'unreachable' === $state ) {
			return sprintf(
				'%1$s<a class="liang-badge-text" href="%2$s" rel="noopener">%3$s</a></div>',
				$open,
				esc_url( $verify ),
				esc_html__( 'Party-member merchant · verify our badge', 'liangshenfen-badge' )
			);
		}
		if ( 'valid' !== $state ) {
			return '';
		}
		if ( 'link' === $style ) {
			return sprintf(
				'%1$s<a class="liang-badge-text" href="%2$s" target="_blank" rel="noopener">%3$s</a></div>',
				$open,
				esc_url( $verify ),
				esc_html__( 'Party-member merchant · verify our badge', 'liangshenfen-badge' )
			);
		}
		if ( 'widget' === $style ) {
			if ( function_exists( 'wp_enqueue_script' ) ) {
				// The service's own script, in the shopper's browser, chosen by the owner in the settings.
				wp_enqueue_script( 'liangshenfen-badge-widget', $service . '/widget.js', array(), null, true ); // phpcs:ignore WordPress.WP.EnqueuedResourceParameters.MissingVersion
			}
			return sprintf(
				'%1$s<a class="liang-badge" data-badge-id="%2$s" href="%3$s">%4$s</a></div>',
				$open,
				esc_attr( $id ),
				esc_url( $verify ),
				esc_html__( 'Party-member merchant · verify our badge', 'liangshenfen-badge' )
			);
		}
		$dims = Liang_Badge_Settings::SIZES[ $size ] ?? Liang_Badge_Settings::SIZES['m'];
		$size = isset( Liang_Badge_Settings::SIZES[ $size ] ) ? $size : 'm';
		$shop = (string) ( $status['shop'] ?? '' );
		$alt  = '' === $shop
			? __( 'Liangshenfen party-member merchant badge (click to verify)', 'liangshenfen-badge' )
			/* translators: %s: the shop's name */
			: sprintf( __( 'Liangshenfen party-member merchant badge of %s (click to verify)', 'liangshenfen-badge' ), $shop );
		return sprintf(
			// max-width and height:auto: the image scales down on a phone, whatever the theme does.
			'%1$s<a href="%2$s" target="_blank" rel="noopener"><img class="liang-badge-image" src="%3$s" width="%4$d" height="%5$d" alt="%6$s" loading="lazy" decoding="async" style="max-width:100%%;height:auto;vertical-align:middle"></a></div>',
			$open,
			esc_url( $verify ),
			esc_url( $service . '/v/' . $id . '/badge.png?size=' . $size ),
			(int) $dims[0],
			(int) $dims[1],
			esc_attr( $alt )
		);
	}
}
