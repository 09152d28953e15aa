// Package api is Kiln's Cinder v3-compatible REST API: Cinder's paths and JSON shapes,
// microversion negotiation, fault bodies and authentication, on a net/http ServeMux, so that
// existing OpenStack clients (gophercloud, python-cinderclient, the openstack CLI) drive Kiln
// unchanged.
package api
