<?php

use PHPUnit\Framework\TestCase;

final class SettingsTest extends TestCase {

	protected function setUp(): void {
		WP::reset();
	}

	public function test_defaults_footer_on_image_medium_five_minutes(): void {
		$defaults = Liang_Badge_Settings::defaults();
		$this->assertTrue( $defaults['footer'] );
		$this->assertFalse( $defaults['product'] || $defaults['cart'] || $defaults['checkout'] );
		$this->assertSame( array( 'image', 'm', 300 ), array( $defaults['style'], $defaults['size'], $defaults['ttl'] ) );
	}

	public function test_sanitize_normalises_the_id_and_clamps_the_lifetime(): void {
		$clean = Liang_Badge_Settings::sanitize(
			array(
				'badge_id'    => '7k3m 9qx2 ht4b',
				'service_url' => 'https://liang.example/',
				'style'       => 'evil',
				'size'        => 'xl',
				'ttl'         => '0',
				'product'     => '1',
			)
		);
		$this->assertSame( '7K3M-9QX2-HT4B', $clean['badge_id'] );
		$this->assertSame( 'https://liang.example', $clean['service_url'] );
		$this->assertSame( array( 'image', 'm', Liang_Badge_Settings::MIN_TTL ), array( $clean['style'], $clean['size'], $clean['ttl'] ) );
		$this->assertTrue( $clean['product'] );
		$this->assertFalse( $clean['footer'] );
		$this->assertSame( Liang_Badge_Settings::MAX_TTL, Liang_Badge_Settings::clamp_ttl( '999999' ) );
	}

	public function test_a_bad_id_or_url_is_refused_and_the_old_value_kept(): void {
		WP::$options[ Liang_Badge_Settings::OPTION ] = array(
			'badge_id'    => '7K3M-9QX2-HT4B',
			'service_url' => 'https://liang.example',
		);
		$clean = Liang_Badge_Settings::sanitize( array( 'badge_id' => 'not a badge', 'service_url' => 'ftp://x' ) );
		$this->assertSame( '7K3M-9QX2-HT4B', $clean['badge_id'] );
		$this->assertSame( 'https://liang.example', $clean['service_url'] );
		$this->assertSame( array( 'liang-badge_id', 'liang-service_url' ), WP::$errors );
	}

	public function test_changing_the_badge_forgets_the_cache(): void {
		WP::$options[ Liang_Badge_Status::KEYS_OPTION ] = array( 'liang_badge_x' );
		WP::$transients['liang_badge_x']                = array( array( 'state' => 'valid' ), WP::$now + 300 );
		Liang_Badge_Settings::sanitize( array( 'badge_id' => '0000-0000-0000', 'service_url' => 'https://liang.example' ) );
		$this->assertSame( array(), WP::$transients );
	}

	public function test_admin_words_name_the_state_and_the_unbound_host(): void {
		$this->assertStringContainsString( 'revoked', Liang_Badge_Admin::state_message( 'revoked', '7K3M-9QX2-HT4B' ) );
		$this->assertStringContainsString( 'suspended', Liang_Badge_Admin::state_message( 'suspended', '7K3M-9QX2-HT4B' ) );
		$this->assertStringContainsString( 'renew', Liang_Badge_Admin::state_message( 'expired', '7K3M-9QX2-HT4B' ) );
		$this->assertStringContainsString( 'does not know', Liang_Badge_Admin::state_message( 'unknown', '7K3M-9QX2-HT4B' ) );
		$this->assertSame( '', Liang_Badge_Admin::host_message( 'www.shop.example', array( 'shop.example' ) ) );
		$warning = Liang_Badge_Admin::host_message( 'other.example', array( 'shop.example' ) );
		$this->assertStringContainsString( 'other.example', $warning );
		$this->assertStringContainsString( 'shop.example', $warning );
	}
}
