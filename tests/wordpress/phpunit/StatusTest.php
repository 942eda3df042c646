<?php

use PHPUnit\Framework\TestCase;

final class StatusTest extends TestCase {

	const SERVICE = 'https://liang.example';
	const ID      = '7K3M-9QX2-HT4B';

	private array $calls = array();

	protected function setUp(): void {
		WP::reset();
		$this->calls = array();
	}

	/** A stand-in for wp_remote_get that answers from a queue and records each call. */
	private function status( array $answers ): Liang_Badge_Status {
		$calls = &$this->calls;
		return new Liang_Badge_Status(
			static function ( string $url, array $args ) use ( &$answers, &$calls ) {
				$calls[] = array( $url, $args );
				return array_shift( $answers );
			},
			static fn () => WP::$now
		);
	}

	private static function ok( string $state, array $headers = array(), array $hosts = array( 'shop.example' ) ): array {
		return array(
			'response' => array( 'code' => 200 ),
			'headers'  => $headers,
			'body'     => json_encode(
				array(
					'id'     => self::ID,
					'status' => $state,
					'shop'   => array( 'name' => 'Xiaoming', 'hosts' => $hosts ),
				)
			),
		);
	}

	public function test_asks_the_status_api_within_three_seconds_without_naming_the_site(): void {
		$this->status( array( self::ok( 'valid' ) ) )->get( self::SERVICE, self::ID, 300 );
		$this->assertCount( 1, $this->calls );
		[ $url, $args ] = $this->calls[0];
		$this->assertSame( 'https://liang.example/api/v1/badges/7K3M-9QX2-HT4B', $url );
		$this->assertLessThanOrEqual( 3, $args['timeout'] );
		$this->assertStringStartsWith( 'Liangshenfen-Badge/', $args['user-agent'] );
	}

	/** @dataProvider answers */
	public function test_reads_each_answer( $answer, string $state ): void {
		$this->assertSame( $state, $this->status( array( $answer ) )->fetch( self::SERVICE, self::ID )['state'] );
	}

	public static function answers(): array {
		return array(
			'valid'                 => array( self::ok( 'valid' ), 'valid' ),
			'suspended'             => array( self::ok( 'suspended' ), 'suspended' ),
			'revoked'               => array( self::ok( 'revoked' ), 'revoked' ),
			'expired'               => array( self::ok( 'expired' ), 'expired' ),
			'not yet valid'         => array( self::ok( 'not_yet_valid' ), 'not_yet_valid' ),
			'an unknown word'       => array( self::ok( 'VALID' ), 'unknown' ),
			'not found'             => array( array( 'response' => array( 'code' => 404 ), 'body' => '{}' ), 'unknown' ),
			'malformed id'          => array( array( 'response' => array( 'code' => 400 ), 'body' => '{}' ), 'unknown' ),
			'connection refused'    => array( new WP_Error( 'http_request_failed', 'refused' ), 'unreachable' ),
			'server error'          => array( array( 'response' => array( 'code' => 503 ), 'body' => '' ), 'unreachable' ),
			'rate limited'          => array( array( 'response' => array( 'code' => 429 ), 'body' => '' ), 'unreachable' ),
			'not JSON'              => array( array( 'response' => array( 'code' => 200 ), 'body' => '<html>' ), 'unreachable' ),
			'JSON without a status' => array( array( 'response' => array( 'code' => 200 ), 'body' => '{"status": 1}' ), 'unreachable' ),
			'null'                  => array( null, 'unreachable' ),
		);
	}

	public function test_keeps_the_answer_for_the_lifetime_then_asks_again(): void {
		$status = $this->status( array( self::ok( 'valid' ), self::ok( 'revoked' ) ) );
		$this->assertSame( 'valid', $status->get( self::SERVICE, self::ID, 120 )['state'] );
		WP::$now += 119;
		$this->assertSame( 'valid', $status->get( self::SERVICE, self::ID, 120 )['state'] );
		$this->assertCount( 1, $this->calls );
		WP::$now += 1;
		$this->assertSame( 'revoked', $status->get( self::SERVICE, self::ID, 120 )['state'] );
		$this->assertCount( 2, $this->calls );
	}

	public function test_never_keeps_an_answer_longer_than_the_status_list_ttl(): void {
		$status = $this->status( array( self::ok( 'valid', array( 'Liang-Status-List-Ttl' => '60' ) ), self::ok( 'revoked' ) ) );
		$first  = $status->get( self::SERVICE, self::ID, 300 );
		$this->assertSame( WP::$now + 60, $first['expires'] );
		$this->assertSame( 60, WP::$transients[ Liang_Badge_Status::key( self::SERVICE, self::ID ) ][1] - WP::$now );
		WP::$now += 60;
		$this->assertSame( 'revoked', $status->get( self::SERVICE, self::ID, 300 )['state'] );
	}

	public function test_a_longer_list_ttl_does_not_lengthen_the_setting(): void {
		$this->assertSame( 300, Liang_Badge_Status::lifetime( array( 'state' => 'valid', 'list_ttl' => 3600 ), 300 ) );
		$this->assertSame( 300, Liang_Badge_Status::lifetime( array( 'state' => 'valid', 'list_ttl' => 0 ), 300 ) );
	}

	public function test_an_unanswered_request_is_remembered_only_briefly(): void {
		$status = $this->status( array( new WP_Error( 'x', 'timeout' ), self::ok( 'valid' ) ) );
		$this->assertSame( 'unreachable', $status->get( self::SERVICE, self::ID, 300 )['state'] );
		WP::$now += Liang_Badge_Status::UNREACHABLE_TTL - 1;
		$this->assertSame( 'unreachable', $status->get( self::SERVICE, self::ID, 300 )['state'] );
		WP::$now += 1;
		$this->assertSame( 'valid', $status->get( self::SERVICE, self::ID, 300 )['state'] );
	}

	public function test_forget_all_removes_every_transient_it_set(): void {
		$status = $this->status( array( self::ok( 'valid' ), self::ok( 'valid' ) ) );
		$status->get( self::SERVICE, self::ID, 300 );
		$status->get( self::SERVICE, '0000-0000-0000', 300 );
		$this->assertCount( 2, WP::$transients );
		Liang_Badge_Status::forget_all();
		$this->assertSame( array(), WP::$transients );
		$this->assertArrayNotHasKey( Liang_Badge_Status::KEYS_OPTION, WP::$options );
	}

	public function test_reads_the_bound_hosts(): void {
		$answer = $this->status( array( self::ok( 'valid', array(), array( 'shop.example', 7, 'www.shop.example' ) ) ) )->fetch( self::SERVICE, self::ID );
		$this->assertSame( array( 'shop.example', 'www.shop.example' ), $answer['hosts'] );
		$this->assertSame( 'Xiaoming', $answer['shop'] );
	}
}
