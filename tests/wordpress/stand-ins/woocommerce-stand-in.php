<?php
/**
 * Plugin Name: WooCommerce stand-in (tests only)
 * Description: WooCommerce is not packaged in Debian. This must-use plugin stands in for it in the
 * real-WordPress test: it defines the WooCommerce class (how plugins see that WooCommerce is active)
 * and, on ?liang_wc=product|cart|checkout, renders a page that fires the same action hooks as
 * WooCommerce's templates where the badge can be placed. It is not WooCommerce.
 */

if ( ! class_exists( 'WooCommerce' ) ) {
	final class WooCommerce {} // phpcs:ignore
}

add_action(
	'template_redirect',
	static function () {
		$page = isset( $_GET['liang_wc'] ) ? sanitize_key( wp_unslash( $_GET['liang_wc'] ) ) : ''; // phpcs:ignore WordPress.Security.NonceVerification
		$hooks = array(
			'product'  => array( 'woocommerce_before_single_product', 'woocommerce_single_product_summary', 'woocommerce_after_single_product' ),
			'cart'     => array( 'woocommerce_before_cart', 'woocommerce_after_cart_totals', 'woocommerce_after_cart' ),
			'checkout' => array( 'woocommerce_before_checkout_form', 'woocommerce_review_order_after_payment', 'woocommerce_after_checkout_form' ),
		);
		if ( ! isset( $hooks[ $page ] ) ) {
			return;
		}
		echo '<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>' . esc_html( $page ) . '</title></head><body>';
		echo '<main id="wc-' . esc_attr( $page ) . '"><h1>' . esc_html( ucfirst( $page ) ) . '</h1>';
		foreach ( $hooks[ $page ] as $hook ) {
			echo '<section data-hook="' . esc_attr( $hook ) . '">';
			do_action( $hook );
			echo '</section>';
		}
		echo '</main>';
		wp_footer();
		echo '</body></html>';
		exit;
	}
);
