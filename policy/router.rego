# Routes Beskar's /artifacts/yum/... requests for the beskar-yum plugin.
#
# Beskar evaluates the query data.router.output with input {"path", "method"} and data.json as
# data, with two builtins of its own: oci.blob_digest(ref, "mediatype"|"annotation", value) and
# request.body(). The semantics are described in policy/README.md; packages/router evaluates
# the same route table in TypeScript and is tested against cases.json.
#
# Rego v0 as OPA 0.56 (Beskar's version) accepts it; only future keywords are imported.
package router

import future.keywords.contains
import future.keywords.if
import future.keywords.in

default output := {"repository": "", "redirect_url": "", "found": false}

# The first route, in data.routes order, whose pattern matches the path and that accepts the
# method decides. When a pattern matches but no such route accepts the method (an upload, a
# delete), Beskar forwards the request to the plugin without a repository.
output := result if {
	count(applicable) > 0
	result := decision(min(applicable))
} else := {"repository": "", "redirect_url": "", "found": true} if {
	count(matches) > 0
}

# The submatches of every route whose pattern matches the path, by route index.
matches[i] := submatches if {
	some i, route in data.routes
	submatches := regex.find_all_string_submatch_n(route.pattern, input.path, 1)[0]
}

# The indexes of the matching routes that accept the method (a route without methods takes any).
applicable contains i if {
	some i
	matches[i]
	accepts_method(data.routes[i])
}

accepts_method(route) if not route.methods

accepts_method(route) if input.method in route.methods

# A content route redirects to the blob in Beskar's registry; it is not found without one.
decision(i) := result if {
	route := data.routes[i]
	route.blobtype != ""
	repository := matches[i][1]
	oci_repository := sprintf("%s/%s", [repository, route.blobtype])
	digest := layer_digest(oci_repository, matches[i][2], route.blobtype)
	result := {
		"repository": repository,
		"redirect_url": blob_url(oci_repository, digest),
		"found": digest != "",
	}
} else := result if {
	# An API route names its repository in the JSON body; a body that is not a JSON object
	# (none at all, for example) falls through to the last case.
	route := data.routes[i]
	route.body == true
	body := request.body()
	is_object(body)
	repository := string_or_empty(object.get(body, route.body_key, ""))
	result := {"repository": repository, "redirect_url": "", "found": repository != ""}
} else := result if {
	# A write route (uploads) names its repository in the path: the write reaches its node.
	route := data.routes[i]
	route.path_repository == true
	result := {"repository": matches[i][1], "redirect_url": "", "found": true}
} else := {"repository": "", "redirect_url": "", "found": true}

# Packages: the manifest is tagged with the MD5 of the file name; its layer holds the RPM.
layer_digest(oci_repository, file, blobtype) := digest if {
	blobtype == "packages"
	ref := sprintf("%s:%s", [oci_repository, crypto.md5(file)])
	digest := oci.blob_digest(ref, "mediatype", data.mediatype.rpm)
}

# Repodata: one manifest holds every file; repomd.xml and its signature are found by layer
# mediatype, any other file by its title annotation.
layer_digest(oci_repository, file, blobtype) := digest if {
	blobtype == "repodata"
	ref := sprintf("%s:%s", [oci_repository, data.tag.repomd])
	search := repodata_search(file)
	digest := oci.blob_digest(ref, search[0], search[1])
}

repodata_search(file) := ["mediatype", data.mediatype.repomd] if {
	file == "repomd.xml"
} else := ["mediatype", data.mediatype.repomdasc] if {
	file == "repomd.xml.asc"
} else := search if {
	search := ["annotation", sprintf("%s=%s", [data.annotation.title, file])]
}

blob_url(oci_repository, digest) := url if {
	digest != ""
	url := sprintf("/v2/%s/blobs/sha256:%s", [oci_repository, digest])
} else := ""

string_or_empty(value) := value if {
	is_string(value)
} else := ""
