// The Pulumi random provider for the offline test bed: the Terraform bridge over the
// upstream random provider, with the resource tokens of @pulumi/random.
//
//	pulumi-resource-random tfgen schema --out DIR   writes schema.json, bridge-metadata.json
//	pulumi-resource-random                          serves the provider (reads both beside itself)
package main

import (
	"context"
	"os"
	"path/filepath"

	pftfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	pftfgen "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	"github.com/terraform-providers/terraform-provider-random/internal/provider"
)

// version is the @pulumi/random version this binary stands in for (set with -ldflags).
var version = "0.0.0"

func info(metadata []byte) tfbridge.ProviderInfo {
	prov := tfbridge.ProviderInfo{
		P:            pftfbridge.ShimProvider(provider.New()),
		Name:         "random",
		Version:      version,
		MetadataInfo: tfbridge.NewProviderMetadata(metadata),
	}
	prov.MustComputeTokens(tokens.SingleModule("random_", "index", func(module, name string) (string, error) {
		return tokens.MakeStandard("random")(module, "Random"+name)
	}))
	return prov
}

func beside(name string) []byte {
	self, err := os.Executable()
	if err != nil {
		panic(err)
	}
	data, err := os.ReadFile(filepath.Join(filepath.Dir(self), name))
	if err != nil {
		panic(err)
	}
	return data
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "tfgen" {
		os.Args = append(os.Args[:1], os.Args[2:]...)
		pftfgen.Main("random", info([]byte("{}")))
		return
	}
	meta := beside("bridge-metadata.json")
	pftfbridge.Main(context.Background(), "random", info(meta), pftfbridge.ProviderMetadata{PackageSchema: beside("schema.json")})
}
