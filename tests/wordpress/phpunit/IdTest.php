<?php

use PHPUnit\Framework\TestCase;

final class IdTest extends TestCase {

	/** @dataProvider ids */
	public function test_normalize( $raw, ?string $expected ): void {
		$this->assertSame( $expected, Liang_Badge_Id::normalize( $raw ) );
	}

	public static function ids(): array {
		return array(
			'grouped'            => array( '7K3M-9QX2-HT4B', '7K3M-9QX2-HT4B' ),
			'lower case'         => array( '7k3m9qx2ht4b', '7K3M-9QX2-HT4B' ),
			'spaces and tabs'    => array( " 7K3M 9QX2\tHT4B ", '7K3M-9QX2-HT4B' ),
			'I and L read as 1'  => array( 'IL3M-9QX2-HT4B', '113M-9QX2-HT4B' ),
			'O read as 0'        => array( 'oO3M-9QX2-HT4B', '003M-9QX2-HT4B' ),
			'too short'          => array( '7K3M-9QX2-HT4', null ),
			'too long'           => array( '7K3M-9QX2-HT4BB', null ),
			'U is not crockford' => array( 'UK3M-9QX2-HT4B', null ),
			'non-ASCII'          => array( '7K3M-9QX2-HT4Ｂ', null ),
			'empty'              => array( '', null ),
			'not a string'       => array( array( 'x' ), null ),
			'huge input'         => array( str_repeat( '-', 65 ) . '7K3M9QX2HT4B', null ),
		);
	}

	/** The same answers as the service's parser, for vectors the Python test suite wrote. */
	public function test_same_as_the_service(): void {
		$file = getenv( 'LIANG_ID_VECTORS' );
		if ( ! $file ) {
			$this->markTestSkipped( 'LIANG_ID_VECTORS not set (the pytest wrapper sets it)' );
		}
		$vectors = json_decode( (string) file_get_contents( $file ), true );
		$this->assertGreaterThan( 10, count( $vectors ) );
		foreach ( $vectors as $vector ) {
			$this->assertSame( $vector[1], Liang_Badge_Id::normalize( $vector[0] ), 'input ' . json_encode( $vector[0] ) );
		}
	}

	public function test_service_url(): void {
		$this->assertSame( 'https://liang.example/base', Liang_Badge_Id::service_url( ' https://liang.example/base/ ' ) );
		$this->assertSame( 'http://127.0.0.1:8000', Liang_Badge_Id::service_url( 'http://127.0.0.1:8000' ) );
		$this->assertSame( '', Liang_Badge_Id::service_url( 'javascript:alert(1)' ) );
		$this->assertSame( '', Liang_Badge_Id::service_url( 'https://x.example/?q=1' ) );
		$this->assertSame( '', Liang_Badge_Id::service_url( null ) );
	}

	public function test_host_binding_covers_the_www_twin_only(): void {
		$this->assertTrue( Liang_Badge_Id::host_is_bound( 'shop.example', array( 'shop.example' ) ) );
		$this->assertTrue( Liang_Badge_Id::host_is_bound( 'WWW.Shop.Example.', array( 'shop.example' ) ) );
		$this->assertTrue( Liang_Badge_Id::host_is_bound( 'shop.example', array( 'www.shop.example' ) ) );
		$this->assertFalse( Liang_Badge_Id::host_is_bound( 'evil.example', array( 'shop.example' ) ) );
		$this->assertFalse( Liang_Badge_Id::host_is_bound( 'sub.shop.example', array( 'shop.example' ) ) );
		$this->assertFalse( Liang_Badge_Id::host_is_bound( '', array( '' ) ) );
	}
}
