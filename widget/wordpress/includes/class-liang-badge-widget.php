<?php
/**
 * The classic widget.
 *
 * @package LiangshenfenBadge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Shows the badge in a widget area.
 */
class Liang_Badge_Widget extends WP_Widget {

	/**
	 * Name the widget.
	 */
	public function __construct() {
		parent::__construct(
			'liangshenfen_badge',
			__( 'Liangshenfen badge', 'liangshenfen-badge' ),
			array( 'description' => __( 'Your live party-member merchant badge.', 'liangshenfen-badge' ) )
		);
	}

	/**
	 * Print the widget.
	 *
	 * @param array $args     Theme markup around widgets.
	 * @param array $instance This widget's settings.
	 */
	public function widget( $args, $instance ) {
		$html = Liang_Badge_Plugin::badge(
			'widget',
			array(
				'size'  => (string) ( $instance['size'] ?? '' ),
				'style' => (string) ( $instance['style'] ?? '' ),
			)
		);
		if ( '' === $html ) {
			return;
		}
		// phpcs:disable WordPress.Security.EscapeOutput.OutputNotEscaped -- the theme's own markup; the badge is escaped in Liang_Badge_Render::html().
		echo $args['before_widget'] ?? '';
		if ( ! empty( $instance['title'] ) ) {
			echo ( $args['before_title'] ?? '' ) . esc_html( $instance['title'] ) . ( $args['after_title'] ?? '' );
		}
		echo $html;
		echo $args['after_widget'] ?? '';
		// phpcs:enable
	}

	/**
	 * Print the widget's settings form.
	 *
	 * @param array $instance This widget's settings.
	 */
	public function form( $instance ) {
		$title = (string) ( $instance['title'] ?? '' );
		$size  = (string) ( $instance['size'] ?? '' );
		$style = (string) ( $instance['style'] ?? '' );
		?>
		<p>
			<label for="<?php echo esc_attr( $this->get_field_id( 'title' ) ); ?>"><?php esc_html_e( 'Title (optional)', 'liangshenfen-badge' ); ?></label>
			<input class="widefat" id="<?php echo esc_attr( $this->get_field_id( 'title' ) ); ?>" name="<?php echo esc_attr( $this->get_field_name( 'title' ) ); ?>" type="text" value="<?php echo esc_attr( $title ); ?>">
		</p>
		<p>
			<label for="<?php echo esc_attr( $this->get_field_id( 'size' ) ); ?>"><?php esc_html_e( 'Size', 'liangshenfen-badge' ); ?></label>
			<select class="widefat" id="<?php echo esc_attr( $this->get_field_id( 'size' ) ); ?>" name="<?php echo esc_attr( $this->get_field_name( 'size' ) ); ?>">
				<option value=""><?php esc_html_e( 'As in Settings', 'liangshenfen-badge' ); ?></option>
				<option value="s" <?php selected( $size, 's' ); ?>><?php esc_html_e( 'Small', 'liangshenfen-badge' ); ?></option>
				<option value="m" <?php selected( $size, 'm' ); ?>><?php esc_html_e( 'Medium', 'liangshenfen-badge' ); ?></option>
				<option value="l" <?php selected( $size, 'l' ); ?>><?php esc_html_e( 'Large', 'liangshenfen-badge' ); ?></option>
			</select>
		</p>
		<p>
			<label for="<?php echo esc_attr( $this->get_field_id( 'style' ) ); ?>"><?php esc_html_e( 'Style', 'liangshenfen-badge' ); ?></label>
			<select class="widefat" id="<?php echo esc_attr( $this->get_field_id( 'style' ) ); ?>" name="<?php echo esc_attr( $this->get_field_name( 'style' ) ); ?>">
				<option value=""><?php esc_html_e( 'As in Settings', 'liangshenfen-badge' ); ?></option>
				<option value="image" <?php selected( $style, 'image' ); ?>><?php esc_html_e( 'Badge image with link', 'liangshenfen-badge' ); ?></option>
				<option value="widget" <?php selected( $style, 'widget' ); ?>><?php esc_html_e( 'Live widget (script from the service)', 'liangshenfen-badge' ); ?></option>
				<option value="link" <?php selected( $style, 'link' ); ?>><?php esc_html_e( 'Text link', 'liangshenfen-badge' ); ?></option>
			</select>
		</p>
		<?php
		return '';
	}

	/**
	 * Clean the widget's settings.
	 *
	 * @param array $new_instance What the form sent.
	 * @param array $old_instance What was saved before.
	 */
	public function update( $new_instance, $old_instance ) {
		$size  = (string) ( $new_instance['size'] ?? '' );
		$style = (string) ( $new_instance['style'] ?? '' );
		return array(
			'title' => sanitize_text_field( (string) ( $new_instance['title'] ?? '' ) ),
			'size'  => isset( Liang_Badge_Settings::SIZES[ $size ] ) ? $size : '',
			'style' => in_array( $style, Liang_Badge_Settings::STYLES, true ) ? $style : '',
		);
	}
}
