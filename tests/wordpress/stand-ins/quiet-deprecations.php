<?php
/**
 * Plugin Name: Quiet deprecations (tests only)
 * Description: WordPress 6.1 itself raises PHP 8.2 deprecations (dynamic properties); they are kept
 * off the page so that any warning or notice that is displayed (WP_DEBUG_DISPLAY) is a real one.
 */

error_reporting( E_ALL & ~E_DEPRECATED & ~E_USER_DEPRECATED );
