/* The block's editor side, plain JavaScript (no build step). The storefront HTML is rendered by PHP. */
( function ( wp, words ) {
	'use strict';
	if ( ! wp || ! wp.blocks || ! words ) {
		return;
	}
	var el = wp.element.createElement;
	var InspectorControls = wp.blockEditor.InspectorControls;
	var PanelBody = wp.components.PanelBody;
	var SelectControl = wp.components.SelectControl;
	var TextControl = wp.components.TextControl;
	var ServerSideRender = wp.serverSideRender;

	function options( table ) {
		return [ { label: '—', value: '' } ].concat( Object.keys( table ).map( function ( key ) {
			return { label: table[ key ], value: key };
		} ) );
	}

	wp.blocks.registerBlockType( 'liangshenfen/badge', {
		edit: function ( props ) {
			var a = props.attributes;
			return el( 'div', wp.blockEditor.useBlockProps ? wp.blockEditor.useBlockProps() : {},
				el( InspectorControls, {},
					el( PanelBody, { title: words.title },
						el( TextControl, { label: words.idLabel, value: a.badgeId, onChange: function ( v ) { props.setAttributes( { badgeId: v } ); } } ),
						el( SelectControl, { label: words.size, value: a.size, options: options( words.sizes ), onChange: function ( v ) { props.setAttributes( { size: v } ); } } ),
						el( SelectControl, { label: words.style, value: a.style, options: options( words.styles ), onChange: function ( v ) { props.setAttributes( { style: v } ); } } )
					)
				),
				el( ServerSideRender, { block: 'liangshenfen/badge', attributes: a } )
			);
		},
		save: function () {
			return null;
		}
	} );
}( window.wp, window.liangBadgeEditor ) );
