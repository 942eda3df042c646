<?php

use PHPUnit\Framework\TestCase;

final class RenderTest extends TestCase {

	const SERVICE = 'https://liang.example';
	const ID      = '7K3M-9QX2-HT4B';

	protected function setUp(): void {
		WP::reset();
	}

	private static function html( string $state, string $style = 'image', string $size = 'm', string $shop = 'Xiaoming' ): string {
		return Liang_Badge_Render::html( array( 'state' => $state, 'shop' => $shop ), self::SERVICE, self::ID, $style, $size, 'footer' );
	}

	public function test_a_valid_badge_is_the_live_image_in_a_link_to_the_verify_page(): void {
		$html = self::html( 'valid' );
		$this->assertStringContainsString( '<a href="https://liang.example/v/7K3M-9QX2-HT4B"', $html );
		$this->assertStringContainsString( 'src="https://liang.example/v/7K3M-9QX2-HT4B/badge.png?size=m"', $html );
		$this->assertStringContainsString( 'width="480" height="300"', $html );
		$this->assertStringContainsString( 'max-width:100%;height:auto', $html );
	}

	public function test_size_l_and_an_unknown_size(): void {
		$this->assertStringContainsString( 'badge.png?size=l" width="800" height="500"', self::html( 'valid', 'image', 'l' ) );
		$this->assertStringContainsString( 'badge.png?size=m" width="480" height="300"', self::html( 'valid', 'image', 'x"><script>' ) );
	}

	/** @dataProvider not_valid */
	public function test_nothing_of_a_badge_that_is_not_valid( string $state ): void {
		foreach ( Liang_Badge_Settings::STYLES as $style ) {
			$this->assertSame( '', self::html( $state, $style ) );
		}
	}

	public static function not_valid(): array {
		return array( array( 'suspended' ), array( 'revoked' ), array( 'expired' ), array( 'not_yet_valid' ), array( 'unknown' ), array( 'anything' ) );
	}

	public function test_unreachable_is_a_plain_link_without_an_image(): void {
		foreach ( Liang_Badge_Settings::STYLES as $style ) {
			$html = self::html( 'unreachable', $style );
			$this->assertStringContainsString( 'href="https://liang.example/v/7K3M-9QX2-HT4B"', $html );
			$this->assertStringNotContainsString( '<img', $html );
			$this->assertStringNotContainsString( 'badge.png', $html );
		}
		$this->assertSame( array(), WP::$scripts );
	}

	public function test_text_link_and_widget_styles(): void {
		$this->assertStringNotContainsString( '<img', self::html( 'valid', 'link' ) );
		$widget = self::html( 'valid', 'widget' );
		$this->assertStringContainsString( 'class="liang-badge" data-badge-id="7K3M-9QX2-HT4B"', $widget );
		$this->assertSame( 'https://liang.example/widget.js', WP::$scripts[0][1] );
	}

	public function test_the_shop_name_is_escaped(): void {
		$html = self::html( 'valid', 'image', 'm', '"><script>alert(1)</script>' );
		$this->assertStringNotContainsString( '<script>', $html );
		$this->assertStringContainsString( '&quot;&gt;&lt;script&gt;', $html );
	}

	public function test_a_hostile_service_url_or_place_cannot_break_out(): void {
		$html = Liang_Badge_Render::html( array( 'state' => 'valid' ), 'https://x.example/"onmouseover="a', self::ID, 'image', 'm', '"><b' );
		$this->assertStringNotContainsString( '"onmouseover', $html );
		$this->assertStringNotContainsString( '"><b', $html );
	}
}
