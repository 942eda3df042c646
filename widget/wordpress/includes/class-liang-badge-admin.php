<?php
/**
 * wp-admin: the settings page under Settings, and notices when the badge is not being shown.
 *
 * @package LiangshenfenBadge
 */

defined( 'ABSPATH' ) || exit;

/**
 * The settings page (Settings API) and the admin notices.
 */
final class Liang_Badge_Admin {

	const PAGE = 'liangshenfen-badge';

	/**
	 * Register the admin hooks.
	 */
	public static function boot(): void {
		add_action( 'admin_menu', array( __CLASS__, 'menu' ) );
		add_action( 'admin_init', array( __CLASS__, 'register' ) );
		add_action( 'admin_notices', array( __CLASS__, 'notices' ) );
		add_action( 'admin_post_liang_badge_refresh', array( __CLASS__, 'refresh' ) );
		add_filter( 'plugin_action_links_' . plugin_basename( LIANG_BADGE_FILE ), array( __CLASS__, 'action_links' ) );
	}

	/**
	 * Add the page under Settings.
	 */
	public static function menu(): void {
		add_options_page(
			__( 'Liangshenfen badge', 'liangshenfen-badge' ),
			__( 'Liangshenfen badge', 'liangshenfen-badge' ),
			'manage_options',
			self::PAGE,
			array( __CLASS__, 'page' )
		);
	}

	/**
	 * Add a Settings link on the Plugins screen.
	 *
	 * @param array $links The plugin's action links.
	 */
	public static function action_links( $links ): array {
		$url = admin_url( 'options-general.php?page=' . self::PAGE );
		array_unshift( $links, '<a href="' . esc_url( $url ) . '">' . esc_html__( 'Settings', 'liangshenfen-badge' ) . '</a>' );
		return $links;
	}

	/**
	 * Register the option, sections and fields with the Settings API.
	 */
	public static function register(): void {
		register_setting(
			'liangshenfen_badge',
			Liang_Badge_Settings::OPTION,
			array(
				'type'              => 'array',
				'sanitize_callback' => array( 'Liang_Badge_Settings', 'sanitize' ),
				'default'           => Liang_Badge_Settings::defaults(),
			)
		);
		add_settings_section( 'liang_badge', __( 'Your badge', 'liangshenfen-badge' ), '__return_false', self::PAGE );
		add_settings_section( 'liang_display', __( 'Where and how it shows', 'liangshenfen-badge' ), '__return_false', self::PAGE );
		add_settings_field( 'badge_id', __( 'Badge number', 'liangshenfen-badge' ), array( __CLASS__, 'field_badge_id' ), self::PAGE, 'liang_badge', array( 'label_for' => 'liang-badge-id' ) );
		add_settings_field( 'service_url', __( 'Service address', 'liangshenfen-badge' ), array( __CLASS__, 'field_service_url' ), self::PAGE, 'liang_badge', array( 'label_for' => 'liang-service-url' ) );
		add_settings_field( 'placements', __( 'Show the badge', 'liangshenfen-badge' ), array( __CLASS__, 'field_placements' ), self::PAGE, 'liang_display' );
		add_settings_field( 'style', __( 'Style', 'liangshenfen-badge' ), array( __CLASS__, 'field_style' ), self::PAGE, 'liang_display', array( 'label_for' => 'liang-style' ) );
		add_settings_field( 'size', __( 'Size', 'liangshenfen-badge' ), array( __CLASS__, 'field_size' ), self::PAGE, 'liang_display', array( 'label_for' => 'liang-size' ) );
		add_settings_field( 'ttl', __( 'Check the badge every', 'liangshenfen-badge' ), array( __CLASS__, 'field_ttl' ), self::PAGE, 'liang_display', array( 'label_for' => 'liang-ttl' ) );
	}

	/**
	 * Return the field name for one key of the option.
	 *
	 * @param string $key The key.
	 */
	private static function name( string $key ): string {
		return Liang_Badge_Settings::OPTION . '[' . $key . ']';
	}

	/** Print the badge number field. */
	public static function field_badge_id(): void {
		$settings = Liang_Badge_Settings::get();
		printf( '<input type="text" class="regular-text code" id="liang-badge-id" name="%1$s" value="%2$s" placeholder="7K3M-9QX2-HT4B">', esc_attr( self::name( 'badge_id' ) ), esc_attr( $settings['badge_id'] ) );
		echo '<p class="description">' . esc_html__( 'The number on your badge and your embed kit page. Filled in already when you downloaded the plugin from your embed kit.', 'liangshenfen-badge' ) . '</p>';
	}

	/** Print the service address field. */
	public static function field_service_url(): void {
		$settings = Liang_Badge_Settings::get();
		printf( '<input type="url" class="regular-text code" id="liang-service-url" name="%1$s" value="%2$s">', esc_attr( self::name( 'service_url' ) ), esc_attr( $settings['service_url'] ) );
		echo '<p class="description">' . esc_html__( 'Where badges are checked. Leave it as it is unless your branch tells you otherwise.', 'liangshenfen-badge' ) . '</p>';
	}

	/** Print the placement checkboxes. */
	public static function field_placements(): void {
		$settings = Liang_Badge_Settings::get();
		$woo      = class_exists( 'WooCommerce' );
		$labels   = array(
			'footer'   => __( 'In the footer of every page', 'liangshenfen-badge' ),
			'product'  => __( 'On WooCommerce product pages', 'liangshenfen-badge' ),
			'cart'     => __( 'On the WooCommerce cart', 'liangshenfen-badge' ),
			'checkout' => __( 'On the WooCommerce checkout', 'liangshenfen-badge' ),
		);
		echo '<fieldset>';
		foreach ( $labels as $key => $label ) {
			printf(
				'<label><input type="checkbox" name="%1$s" value="1" %2$s> %3$s</label><br>',
				esc_attr( self::name( $key ) ),
				checked( ! empty( $settings[ $key ] ), true, false ),
				esc_html( $label )
			);
		}
		echo '<p class="description">';
		if ( ! $woo ) {
			esc_html_e( 'WooCommerce is not active: the product, cart and checkout places take effect once it is.', 'liangshenfen-badge' );
			echo ' ';
		}
		esc_html_e( 'Anywhere else: the shortcode [liang_badge], the "Liangshenfen badge" block, or the widget.', 'liangshenfen-badge' );
		echo '</p></fieldset>';
	}

	/** Print the style choice. */
	public static function field_style(): void {
		$settings = Liang_Badge_Settings::get();
		$labels   = array(
			'image'  => __( 'Badge image with link', 'liangshenfen-badge' ),
			'widget' => __( 'Live widget (script from the service)', 'liangshenfen-badge' ),
			'link'   => __( 'Text link', 'liangshenfen-badge' ),
		);
		printf( '<select id="liang-style" name="%s">', esc_attr( self::name( 'style' ) ) );
		foreach ( $labels as $key => $label ) {
			printf( '<option value="%1$s" %2$s>%3$s</option>', esc_attr( $key ), selected( $settings['style'], $key, false ), esc_html( $label ) );
		}
		echo '</select>';
	}

	/** Print the size choice. */
	public static function field_size(): void {
		$settings = Liang_Badge_Settings::get();
		$labels   = array(
			's' => __( 'Small', 'liangshenfen-badge' ),
			'm' => __( 'Medium', 'liangshenfen-badge' ),
			'l' => __( 'Large', 'liangshenfen-badge' ),
		);
		printf( '<select id="liang-size" name="%s">', esc_attr( self::name( 'size' ) ) );
		foreach ( $labels as $key => $label ) {
			$dims = Liang_Badge_Settings::SIZES[ $key ];
			printf( '<option value="%1$s" %2$s>%3$s (%4$d×%5$d)</option>', esc_attr( $key ), selected( $settings['size'], $key, false ), esc_html( $label ), (int) $dims[0], (int) $dims[1] );
		}
		echo '</select>';
		echo '<p class="description">' . esc_html__( 'On phones the image shrinks to fit the screen.', 'liangshenfen-badge' ) . '</p>';
	}

	/** Print the cache lifetime field. */
	public static function field_ttl(): void {
		$settings = Liang_Badge_Settings::get();
		printf(
			'<input type="number" class="small-text" id="liang-ttl" name="%1$s" value="%2$d" min="%3$d" max="%4$d"> %5$s',
			esc_attr( self::name( 'ttl' ) ),
			(int) $settings['ttl'],
			(int) Liang_Badge_Settings::MIN_TTL,
			(int) Liang_Badge_Settings::MAX_TTL,
			esc_html__( 'seconds', 'liangshenfen-badge' )
		);
		echo '<p class="description">' . esc_html__( 'How long the shop keeps the badge\'s state before asking the service again (default 300 seconds). Never longer than the service allows, so a revoked badge disappears soon.', 'liangshenfen-badge' ) . '</p>';
	}

	/**
	 * Return the badge's current state for wp-admin, or null when no badge is set.
	 */
	private static function current(): ?array {
		$settings = Liang_Badge_Settings::get();
		$id       = Liang_Badge_Id::normalize( $settings['badge_id'] );
		$service  = Liang_Badge_Id::service_url( $settings['service_url'] );
		if ( null === $id || '' === $service ) {
			return null;
		}
		$status            = ( new Liang_Badge_Status() )->get( $service, $id, Liang_Badge_Settings::clamp_ttl( $settings['ttl'] ) );
		$status['id']      = $id;
		$status['service'] = $service;
		return $status;
	}

	/**
	 * Return what a state means for the shop and what to do, in the admin's language.
	 *
	 * @param string $state The badge's state.
	 * @param string $id    The grouped badge id.
	 */
	public static function state_message( string $state, string $id ): string {
		switch ( $state ) {
			case 'valid':
				/* translators: %s: badge number */
				return sprintf( __( 'Badge %s is valid and shown on your shop.', 'liangshenfen-badge' ), $id );
			case 'suspended':
				/* translators: %s: badge number */
				return sprintf( __( 'Badge %s is suspended, so your shop does not show it. A suspension is temporary, for example while a complaint is looked into: contact your party branch. The badge shows again by itself once it is reinstated.', 'liangshenfen-badge' ), $id );
			case 'revoked':
				/* translators: %s: badge number */
				return sprintf( __( 'Badge %s is revoked, so your shop does not show it. A revocation is final: remove the badge from your shop, your listings and your parcel cards. Contact your party branch if you think this is a mistake.', 'liangshenfen-badge' ), $id );
			case 'expired':
				/* translators: %s: badge number */
				return sprintf( __( 'Badge %s has expired, so your shop does not show it. Ask your party branch to renew it; after renewal it shows again by itself, nothing to change here.', 'liangshenfen-badge' ), $id );
			case 'not_yet_valid':
				/* translators: %s: badge number */
				return sprintf( __( 'Badge %s is not valid yet, so your shop does not show it. It shows by itself from its start date.', 'liangshenfen-badge' ), $id );
			case 'unreachable':
				/* translators: %s: badge number */
				return sprintf( __( 'The Liangshenfen service could not be reached to check badge %s. Until it answers, your shop shows a plain "verify" link instead of the badge. Nothing to do if this passes; if it lasts, check the service address in the settings.', 'liangshenfen-badge' ), $id );
			default:
				/* translators: %s: badge number */
				return sprintf( __( 'The Liangshenfen service does not know badge %s, so your shop does not show it. Check the badge number in Settings → Liangshenfen badge against your embed kit page.', 'liangshenfen-badge' ), $id );
		}
	}

	/**
	 * Return the plain warning when this site is not one of the badge's bound hosts, else ''.
	 *
	 * @param string   $site_host This site's host name.
	 * @param string[] $hosts     The badge's bound hosts.
	 */
	public static function host_message( string $site_host, array $hosts ): string {
		if ( Liang_Badge_Id::host_is_bound( $site_host, $hosts ) ) {
			return '';
		}
		return sprintf(
			/* translators: 1: this site's host name, 2: the badge's bound host names */
			__( 'This site (%1$s) is not one of the addresses the badge is bound to (%2$s). Shoppers who open the badge here see the warning "this badge does not belong to this shop". Ask your party branch to add %1$s to the badge.', 'liangshenfen-badge' ),
			$site_host,
			$hosts ? implode( ', ', $hosts ) : '—'
		);
	}

	/**
	 * Return this site's host name.
	 */
	private static function site_host(): string {
		return (string) wp_parse_url( home_url(), PHP_URL_HOST );
	}

	/**
	 * Print notices on wp-admin when the badge is not shown, or is shown on an unbound host.
	 */
	public static function notices(): void {
		if ( ! current_user_can( 'manage_options' ) ) {
			return;
		}
		$status = self::current();
		$link   = '<a href="' . esc_url( admin_url( 'options-general.php?page=' . self::PAGE ) ) . '">' . esc_html__( 'Liangshenfen badge settings', 'liangshenfen-badge' ) . '</a>';
		if ( null === $status ) {
			echo '<div class="notice notice-warning liang-badge-notice"><p>' . esc_html__( 'Liangshenfen badge: no badge number is set yet, so nothing is shown.', 'liangshenfen-badge' ) . ' ' . $link . '</p></div>'; // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- built from escaped parts above.
			return;
		}
		if ( 'valid' !== $status['state'] ) {
			$kind = 'unreachable' === $status['state'] ? 'notice-warning' : 'notice-error';
			printf(
				'<div class="notice %1$s liang-badge-notice" data-liang-state="%2$s"><p><strong>%3$s</strong> %4$s</p></div>',
				esc_attr( $kind ),
				esc_attr( $status['state'] ),
				esc_html( self::state_label( $status['state'] ) ),
				esc_html( self::state_message( $status['state'], $status['id'] ) )
			);
			return;
		}
		$host = self::host_message( self::site_host(), $status['hosts'] );
		if ( '' !== $host ) {
			echo '<div class="notice notice-warning liang-badge-notice" data-liang-state="unbound"><p>' . esc_html( $host ) . '</p></div>';
		}
	}

	/**
	 * Return a short name for a state.
	 *
	 * @param string $state The badge's state.
	 */
	public static function state_label( string $state ): string {
		$labels = array(
			'valid'         => __( 'Valid', 'liangshenfen-badge' ),
			'suspended'     => __( 'Suspended', 'liangshenfen-badge' ),
			'revoked'       => __( 'Revoked', 'liangshenfen-badge' ),
			'expired'       => __( 'Expired', 'liangshenfen-badge' ),
			'not_yet_valid' => __( 'Not valid yet', 'liangshenfen-badge' ),
			'unreachable'   => __( 'Service not reachable', 'liangshenfen-badge' ),
		);
		return $labels[ $state ] ?? __( 'Unknown badge', 'liangshenfen-badge' );
	}

	/**
	 * Forget the cached state and go back to the settings page (the "Check now" button).
	 */
	public static function refresh(): void {
		if ( ! current_user_can( 'manage_options' ) ) {
			wp_die( esc_html__( 'You are not allowed to do this.', 'liangshenfen-badge' ), '', array( 'response' => 403 ) );
		}
		check_admin_referer( 'liang_badge_refresh' );
		Liang_Badge_Status::forget_all();
		wp_safe_redirect( admin_url( 'options-general.php?page=' . self::PAGE ) );
		exit;
	}

	/**
	 * Print the settings page.
	 */
	public static function page(): void {
		if ( ! current_user_can( 'manage_options' ) ) {
			return;
		}
		$status = self::current();
		echo '<div class="wrap"><h1>' . esc_html( get_admin_page_title() ) . '</h1>';
		if ( null !== $status ) {
			echo '<div class="card liang-badge-status" data-liang-state="' . esc_attr( $status['state'] ) . '">';
			echo '<h2>' . esc_html( self::state_label( $status['state'] ) ) . '</h2>';
			echo '<p>' . esc_html( self::state_message( $status['state'], $status['id'] ) ) . '</p>';
			if ( 'valid' === $status['state'] ) {
				$host = self::host_message( self::site_host(), $status['hosts'] );
				if ( '' === $host ) {
					/* translators: %s: this site's host name */
					echo '<p class="liang-badge-host-ok">' . esc_html( sprintf( __( 'This site (%s) is one of the addresses the badge is bound to.', 'liangshenfen-badge' ), self::site_host() ) ) . '</p>';
				} else {
					echo '<p class="liang-badge-host-warning"><strong>' . esc_html( $host ) . '</strong></p>';
				}
			}
			echo '<p><a href="' . esc_url( $status['service'] . '/v/' . $status['id'] ) . '" target="_blank" rel="noopener">' . esc_html__( 'Open the badge\'s verify page', 'liangshenfen-badge' ) . '</a></p>';
			echo '<form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '">';
			echo '<input type="hidden" name="action" value="liang_badge_refresh">';
			wp_nonce_field( 'liang_badge_refresh' );
			submit_button( __( 'Check now', 'liangshenfen-badge' ), 'secondary', 'liang-check-now', false );
			echo '</form></div>';
		}
		echo '<form method="post" action="' . esc_url( admin_url( 'options.php' ) ) . '">';
		settings_fields( 'liangshenfen_badge' );
		do_settings_sections( self::PAGE );
		submit_button();
		echo '</form></div>';
	}
}
