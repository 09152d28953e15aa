// Command kiln is Kiln's host process and client: `kiln agent` runs the control plane.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "kiln: the agent is not built yet (issue \"The agent: the three create-volume flows\")")
	os.Exit(2)
}
