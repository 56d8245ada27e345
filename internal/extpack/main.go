// Command extpack packages the browser extension (../../extension) as a zip for Chrome and Edge,
// with the product's version (the VERSION file) in its manifest. `make extension` runs it.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	src := flag.String("src", "extension", "the extension's folder")
	versionFile := flag.String("version-file", "VERSION", "the product's version")
	out := flag.String("out", "", "the zip to write (default bin/jitaccess-extension-<version>.zip)")
	flag.Parse()
	v, err := ReadVersion(*versionFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "extpack: "+err.Error())
		os.Exit(1)
	}
	if *out == "" {
		*out = fmt.Sprintf("bin/jitaccess-extension-%s.zip", v)
	}
	if err := Pack(*src, v, *out); err != nil {
		fmt.Fprintln(os.Stderr, "extpack: "+err.Error())
		os.Exit(1)
	}
	fmt.Println(*out)
}
