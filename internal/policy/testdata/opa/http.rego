# Package main needs http.send, which the host refuses to provide.
package main

import rego.v1

deny contains msg if {
	resp := http.send({"method": "GET", "url": "https://example.com/"})
	resp.status_code != 200
	msg := "example.com is down"
}
