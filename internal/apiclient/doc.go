// Package apiclient is a typed Go client of Sportello's JSON API, generated
// from api/openapi.json by oapi-codegen (apiclient.gen.go; never edit it by
// hand). After a change to the document, run `make generate` (or
// `go generate ./internal/apiclient/`); TestGeneratedClientIsCurrent fails
// while the committed code is stale. The version of oapi-codegen is the one
// go.mod pins (its tool line), so every machine generates the same code.
//
// Size: the generated code has a type for every schema and a request
// builder, a method and a response parser for every operation of the
// document; it is one generated file, not hand-written code to split.
package apiclient

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config oapi-codegen.yaml ../../api/openapi.json
