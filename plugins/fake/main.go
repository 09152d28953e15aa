// Command kiln-driver-fake is the fake storage driver as a Kiln driver binary: the in-memory
// driver of package sdk/fake, with its state in a JSON file, served by sdk.Serve.
package main

import (
	"github.com/kilnstorage/kiln/sdk"
	"github.com/kilnstorage/kiln/sdk/fake"
)

func main() { sdk.Serve(fake.Plugin) }
