<?php
/**
 * Wires the plugin into WordPress: placements, shortcode, block, widget, admin.
 *
 * @package LiangshenfenBadge
 */

defined( 'ABSPATH' ) || exit;

/**
 * The plugin's hooks.
 */
final class Liang_Badge_Plugin {

	/** WooCommerce actions used for each placement (WooCommerce's own hook names). */
	const WOOCOMMERCE_HOOKS = array(
		'product'  => 'woocommerce_single_product_summary',
		'cart'     => 'woocommerce_after_cart_totals',
		'checkout' => 'woocommerce_review_order_after_payment',
	);

	/**
	 * Register the hooks.
	 */
	public static function boot(): void {
		add_action( 'init', array( __CLASS__, 'init' ) );
		add_action( 'widgets_init', array( __CLASS__, 'widgets_init' ) );
		// Before wp_print_footer_scripts (priority 20), so the widget style's script is still enqueued in time.
		add_action( 'wp_footer', array( __CLASS__, 'footer' ), 5 );
		foreach ( self::WOOCOMMERCE_HOOKS as $place => $hook ) {
			add_action(
				$hook,
				static function () use ( $place ) {
					Liang_Badge_Plugin::placement( $place );
				},
				60
			);
		}
		if ( is_admin() ) {
			require_once LIANG_BADGE_DIR . '/includes/class-liang-badge-admin.php';
			Liang_Badge_Admin::boot();
		}
	}

	/**
	 * Load translations, register the shortcode and the block.
	 */
	public static function init(): void {
		load_plugin_textdomain( 'liangshenfen-badge', false, dirname( plugin_basename( LIANG_BADGE_FILE ) ) . '/languages' );
		add_shortcode( 'liang_badge', array( __CLASS__, 'shortcode' ) );
		register_block_type(
			LIANG_BADGE_DIR . '/block',
			array( 'render_callback' => array( __CLASS__, 'render_block' ) )
		);
		$settings = Liang_Badge_Settings::get();
		wp_localize_script(
			'liangshenfen-badge-editor-script',
			'liangBadgeEditor',
			array(
				'title'    => __( 'Liangshenfen badge', 'liangshenfen-badge' ),
				'idLabel'  => __( 'Badge number (empty: the one in Settings)', 'liangshenfen-badge' ),
				'size'     => __( 'Size', 'liangshenfen-badge' ),
				'style'    => __( 'Style', 'liangshenfen-badge' ),
				'sizes'    => array(
					's' => __( 'Small', 'liangshenfen-badge' ),
					'm' => __( 'Medium', 'liangshenfen-badge' ),
					'l' => __( 'Large', 'liangshenfen-badge' ),
				),
				'styles'   => array(
					'image'  => __( 'Badge image with link', 'liangshenfen-badge' ),
					'widget' => __( 'Live widget (script from the service)', 'liangshenfen-badge' ),
					'link'   => __( 'Text link', 'liangshenfen-badge' ),
				),
				'settings' => array(
					'size'  => $settings['size'],
					'style' => $settings['style'],
				),
			)
		);
	}

	/**
	 * Register the classic widget.
	 */
	public static function widgets_init(): void {
		require_once LIANG_BADGE_DIR . '/includes/class-liang-badge-widget.php';
		register_widget( 'Liang_Badge_Widget' );
	}

	/**
	 * Return the badge's HTML for a place, with optional per-use id, size and style.
	 *
	 * @param string $place Where it is shown.
	 * @param array  $over  Overrides: id, size, style (empty values mean "as in the settings").
	 */
	public static function badge( string $place, array $over = array() ): string {
		$settings = Liang_Badge_Settings::get();
		$raw_id   = isset( $over['id'] ) && '' !== trim( (string) $over['id'] ) ? (string) $over['id'] : (string) $settings['badge_id'];
		$id       = Liang_Badge_Id::normalize( $raw_id );
		$service  = Liang_Badge_Id::service_url( $settings['service_url'] );
		if ( null === $id || '' === $service ) {
			return '';
		}
		$style  = in_array( $over['style'] ?? '', Liang_Badge_Settings::STYLES, true ) ? $over['style'] : $settings['style'];
		$size   = isset( Liang_Badge_Settings::SIZES[ $over['size'] ?? '' ] ) ? $over['size'] : $settings['size'];
		$status = ( new Liang_Badge_Status() )->get( $service, $id, Liang_Badge_Settings::clamp_ttl( $settings['ttl'] ) );
		return Liang_Badge_Render::html( $status, $service, $id, (string) $style, (string) $size, $place );
	}

	/**
	 * Print the badge in the site footer when the setting says so.
	 */
	public static function footer(): void {
		self::placement( 'footer' );
	}

	/**
	 * Print the badge at a placement when its setting is on.
	 *
	 * @param string $place footer, product, cart or checkout.
	 */
	public static function placement( string $place ): void {
		$settings = Liang_Badge_Settings::get();
		if ( empty( $settings[ $place ] ) ) {
			return;
		}
		echo self::badge( $place ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped in Liang_Badge_Render::html().
	}

	/**
	 * The `[liang_badge id="" size="s|m|l" style="image|widget|link"]` shortcode.
	 *
	 * @param array|string $atts The shortcode's attributes.
	 */
	public static function shortcode( $atts ): string {
		$atts = shortcode_atts(
			array(
				'id'    => '',
				'size'  => '',
				'style' => '',
			),
			is_array( $atts ) ? $atts : array(),
			'liang_badge'
		);
		return self::badge( 'shortcode', $atts );
	}

	/**
	 * Render the `liangshenfen/badge` block on the server.
	 *
	 * @param array $attributes The block's attributes.
	 */
	public static function render_block( $attributes ): string {
		$attributes = is_array( $attributes ) ? $attributes : array();
		return self::badge(
			'block',
			array(
				'id'    => (string) ( $attributes['badgeId'] ?? '' ),
				'size'  => (string) ( $attributes['size'] ?? '' ),
				'style' => (string) ( $attributes['style'] ?? '' ),
			)
		);
	}
}
