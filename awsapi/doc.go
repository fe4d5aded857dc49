// Package awsapi serves the Customer Profiles REST-JSON API as AWS does, so
// that unchanged AWS SDKs and the AWS CLI can talk to OpenProfiles through an
// endpoint URL. Routes, wire shapes, request binding and validation are
// generated from the API model (go generate); this package adds SigV4
// authentication, the one error table, and the handlers, which call the
// services of the root package.
package awsapi

//go:generate go run ../internal/gen -model ../../shared/reference/customer-profiles/service-2.json -out .
