// The Pulumi docker provider for the offline test bed: the Terraform bridge over the
// upstream Docker provider, with the resource tokens and field names of @pulumi/docker.
//
//	pulumi-resource-docker tfgen schema --out DIR   writes schema.json
//	pulumi-resource-docker                          serves the provider (reads schema.json beside itself)
package main

import (
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"github.com/terraform-providers/terraform-provider-docker/internal/provider"
)

// version is the @pulumi/docker version this binary stands in for (set with -ldflags).
var version = "0.0.0"

func resource(name string) tfbridge.ResourceInfo {
	return tfbridge.ResourceInfo{Tok: tfbridge.MakeResource("docker", "index", name)}
}

func info() tfbridge.ProviderInfo {
	container := resource("Container")
	container.DeleteBeforeReplace = true
	container.Fields = map[string]*tfbridge.SchemaInfo{
		// A list, but one command: @pulumi/docker keeps the singular name.
		"command":           {Name: "command"},
		"networks_advanced": {Name: "networksAdvanced"},
	}
	image := resource("RemoteImage")
	image.Fields = map[string]*tfbridge.SchemaInfo{"name": {Name: "name"}}
	others := map[string]string{
		"docker_config": "ServiceConfig", "docker_network": "Network", "docker_secret": "Secret",
		"docker_service": "Service", "docker_volume": "Volume", "docker_registry_image": "RegistryImage",
		"docker_plugin": "Plugin", "docker_tag": "Tag", "docker_buildx_builder": "BuildxBuilder",
	}
	resources := map[string]*tfbridge.ResourceInfo{"docker_container": &container, "docker_image": &image}
	for tf, name := range others {
		r := resource(name)
		resources[tf] = &r
	}
	prov := tfbridge.ProviderInfo{
		P:       shimv2.NewProvider(provider.New(version)()),
		Name:    "docker",
		Version: version,
		Config: map[string]*tfbridge.SchemaInfo{
			"host": {Default: &tfbridge.DefaultInfo{Value: "unix:///var/run/docker.sock", EnvVars: []string{"DOCKER_HOST"}}},
			"registry_auth": {Name: "registryAuth", MaxItemsOne: tfbridge.False()},
		},
		Resources: resources,
		DataSources: map[string]*tfbridge.DataSourceInfo{
			"docker_network":                  {Tok: tfbridge.MakeDataSource("docker", "index", "getNetwork")},
			"docker_registry_image":           {Tok: tfbridge.MakeDataSource("docker", "index", "getRegistryImage")},
			"docker_plugin":                   {Tok: tfbridge.MakeDataSource("docker", "index", "getPlugin")},
			"docker_image":                    {Tok: tfbridge.MakeDataSource("docker", "index", "getRemoteImage")},
			"docker_logs":                     {Tok: tfbridge.MakeDataSource("docker", "index", "getLogs")},
			"docker_registry_image_manifests": {Tok: tfbridge.MakeDataSource("docker", "index", "getRegistryImageManifests")},
		},
	}
	prov.SetAutonaming(255, "-")
	return prov
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "tfgen" {
		os.Args = append(os.Args[:1], os.Args[2:]...)
		tfgen.Main("docker", version, info())
		return
	}
	self, err := os.Executable()
	if err != nil {
		panic(err)
	}
	schema, err := os.ReadFile(filepath.Join(filepath.Dir(self), "schema.json"))
	if err != nil {
		panic(err)
	}
	tfbridge.Main("docker", version, info(), schema)
}
