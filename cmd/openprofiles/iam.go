package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// iamParam is a flag of an `openprofiles iam` verb and the request member
// it sets.
type iamParam struct {
	flag     string // kebab-case, as in `aws iam`
	member   string // member of the request
	value    string // name of the value in the help
	usage    string
	required bool
	document bool // a policy document: file://PATH or inline JSON
}

// iamVerb is one `openprofiles iam` verb: one operation of the IAM API.
type iamVerb struct {
	name    string
	op      string
	summary string
	params  []iamParam
	list    string // the list member of a paginated answer ("" for other verbs)
}

var (
	pUser       = iamParam{flag: "user-name", member: "UserName", value: "NAME", usage: "the `NAME` of the user", required: true}
	pUserOrSelf = iamParam{flag: "user-name", member: "UserName", value: "NAME", usage: "the `NAME` of the user (default: the user of the credentials)"}
	pRole       = iamParam{flag: "role-name", member: "RoleName", value: "NAME", usage: "the `NAME` of the role", required: true}
	pPolicyName = iamParam{flag: "policy-name", member: "PolicyName", value: "NAME", usage: "the `NAME` of the inline policy", required: true}
	pPolicyDoc  = iamParam{flag: "policy-document", member: "PolicyDocument", value: "JSON", required: true, document: true,
		usage: "the policy `JSON` itself, or file://PATH to read it from a file"}
	pKeyID  = iamParam{flag: "access-key-id", member: "AccessKeyId", value: "ID", usage: "the `ID` of the access key (AKIA…)", required: true}
	pStatus = iamParam{flag: "status", member: "Status", value: "STATUS", usage: "the new `STATUS` of the key: Active or Inactive", required: true}
)

// iamVerbs are the verbs, in the order the help lists them.
var iamVerbs = []iamVerb{
	{name: "create-user", op: "CreateUser", summary: "create a user", params: []iamParam{pUser}},
	{name: "get-user", op: "GetUser", summary: "show a user (default: the caller)", params: []iamParam{pUserOrSelf}},
	{name: "list-users", op: "ListUsers", summary: "list the users", list: "Users"},
	{name: "delete-user", op: "DeleteUser", summary: "delete a user with its access keys and policies", params: []iamParam{pUser}},

	{name: "create-role", op: "CreateRole", summary: "create a role", params: []iamParam{pRole}},
	{name: "get-role", op: "GetRole", summary: "show a role", params: []iamParam{pRole}},
	{name: "list-roles", op: "ListRoles", summary: "list the roles", list: "Roles"},
	{name: "delete-role", op: "DeleteRole", summary: "delete a role with its policies", params: []iamParam{pRole}},

	{name: "create-access-key", op: "CreateAccessKey", summary: "create an access key; its secret is shown this once", params: []iamParam{pUserOrSelf}},
	{name: "list-access-keys", op: "ListAccessKeys", summary: "list a user's access keys (never their secrets)", params: []iamParam{pUserOrSelf}, list: "AccessKeyMetadata"},
	{name: "update-access-key", op: "UpdateAccessKey", summary: "make an access key Active or Inactive", params: []iamParam{pUserOrSelf, pKeyID, pStatus}},
	{name: "delete-access-key", op: "DeleteAccessKey", summary: "delete an access key", params: []iamParam{pUserOrSelf, pKeyID}},
	{name: "get-access-key-last-used", op: "GetAccessKeyLastUsed", summary: "show when an access key last signed a request that verified (to the minute)", params: []iamParam{pKeyID}},

	{name: "put-user-policy", op: "PutUserPolicy", summary: "attach or replace an inline policy of a user", params: []iamParam{pUser, pPolicyName, pPolicyDoc}},
	{name: "get-user-policy", op: "GetUserPolicy", summary: "show an inline policy of a user", params: []iamParam{pUser, pPolicyName}},
	{name: "list-user-policies", op: "ListUserPolicies", summary: "list the inline policies of a user", params: []iamParam{pUser}, list: "PolicyNames"},
	{name: "delete-user-policy", op: "DeleteUserPolicy", summary: "delete an inline policy of a user", params: []iamParam{pUser, pPolicyName}},

	{name: "put-role-policy", op: "PutRolePolicy", summary: "attach or replace an inline policy of a role", params: []iamParam{pRole, pPolicyName, pPolicyDoc}},
	{name: "get-role-policy", op: "GetRolePolicy", summary: "show an inline policy of a role", params: []iamParam{pRole, pPolicyName}},
	{name: "list-role-policies", op: "ListRolePolicies", summary: "list the inline policies of a role", params: []iamParam{pRole}, list: "PolicyNames"},
	{name: "delete-role-policy", op: "DeleteRolePolicy", summary: "delete an inline policy of a role", params: []iamParam{pRole, pPolicyName}},
}

const iamUsageHead = `Usage:

	openprofiles iam <verb> [flags]

Manages the users, roles, access keys and inline identity policies of a
running server, like 'aws iam': verbs and flags are those of the AWS CLI,
answers are printed as the JSON the AWS CLI prints. Requests go to the
server's IAM API (AWS JSON 1.1, X-Amz-Target OpenProfilesIAM.<Operation>),
signed with SigV4 for the service "iam" with the credentials the AWS CLI
would use (AWS_ACCESS_KEY_ID…, AWS_PROFILE, the shared files).

Verbs:

`

const iamUsageTail = `
Run 'openprofiles iam <verb> --help' for the flags of a verb. Every verb
also takes the client flags:

	--endpoint URL     URL of the OpenProfiles server (env OPENPROFILES_ENDPOINT,
	                   default http://127.0.0.1:8720)
	--profile NAME     AWS shared-config profile to take credentials from
	--region REGION    AWS region to sign for (default: AWS_REGION, the
	                   profile's region, or us-east-1)

List verbs fetch every page unless told otherwise (--max-items,
--page-size, --starting-token). Errors are printed on stderr as the AWS
CLI prints them, and the command exits with status 1.
`

func iamUsage(w io.Writer) {
	fmt.Fprint(w, iamUsageHead)
	for _, v := range iamVerbs {
		fmt.Fprintf(w, "\t%-20s %s\n", v.name, v.summary)
	}
	fmt.Fprint(w, iamUsageTail)
}

// runIAM runs `openprofiles iam <verb> [flags]`.
func runIAM(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		iamUsage(stderr)
		return flag.ErrHelp
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		iamUsage(stdout)
		return nil
	}
	var verb *iamVerb
	for i := range iamVerbs {
		if iamVerbs[i].name == args[0] {
			verb = &iamVerbs[i]
		}
	}
	if verb == nil {
		iamUsage(stderr)
		return fmt.Errorf("iam: unknown verb %q", args[0])
	}

	fs := flag.NewFlagSet("openprofiles iam "+verb.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cf clientFlags
	cf.bind(fs, getenv)
	values := make([]string, len(verb.params))
	for i, p := range verb.params {
		usage := p.usage
		if p.required {
			usage += " (required)"
		}
		fs.StringVar(&values[i], p.flag, "", usage)
	}
	var page iamPaging
	if verb.list != "" {
		fs.IntVar(&page.maxItems, "max-items", 0, "print at most `N` items, and a NextToken to go on from (0: all)")
		fs.IntVar(&page.pageSize, "page-size", 0, "ask for `N` items in each request (0: the server's default)")
		fs.StringVar(&page.startingToken, "starting-token", "", "go on from the NextToken `TOKEN` of an earlier --max-items listing")
	}
	fs.Usage = func() { verbUsage(fs.Output(), fs, verb) }
	if wantsHelp(args[1:]) {
		fs.SetOutput(stdout)
		fs.Usage()
		return nil
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("iam %s: unexpected argument %q (every value is given with a flag; see --help)", verb.name, fs.Arg(0))
	}
	if page.maxItems < 0 || page.pageSize < 0 {
		return fmt.Errorf("iam %s: --max-items and --page-size must not be negative", verb.name)
	}

	in := map[string]any{}
	for i, p := range verb.params {
		v := values[i]
		if v == "" {
			if p.required {
				return fmt.Errorf("iam %s: --%s is required (see 'openprofiles iam %s --help')", verb.name, p.flag, verb.name)
			}
			continue
		}
		if p.document {
			doc, err := loadDocument(v)
			if err != nil {
				return fmt.Errorf("iam %s: --%s: %w", verb.name, p.flag, err)
			}
			v = doc
		}
		in[p.member] = v
	}

	client, err := newIAMClient(ctx, &cf, getenv)
	if err != nil {
		return fmt.Errorf("iam %s: %w", verb.name, err)
	}
	defer client.close()
	if verb.list != "" {
		err = client.list(ctx, stdout, verb.op, verb.list, in, page)
	} else {
		err = client.run(ctx, stdout, verb.op, in)
	}
	if ae, ok := err.(*iamAPIError); ok {
		fmt.Fprintln(stderr, ae.Error())
		return fmt.Errorf("iam %s: %s", verb.name, ae.Code)
	} else if err != nil {
		return fmt.Errorf("iam %s: %w", verb.name, err)
	}
	return nil
}

// verbUsage prints the help of a verb.
func verbUsage(w io.Writer, fs *flag.FlagSet, v *iamVerb) {
	var line strings.Builder
	for _, p := range v.params {
		if p.required {
			fmt.Fprintf(&line, " --%s %s", p.flag, p.value)
		} else {
			fmt.Fprintf(&line, " [--%s %s]", p.flag, p.value)
		}
	}
	fmt.Fprintf(w, "Usage: openprofiles iam %s%s [flags]\n\n%s (operation %s).\n\nFlags:\n\n",
		v.name, line.String(), strings.ToUpper(v.summary[:1])+v.summary[1:], v.op)
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  --%s %s\n    \t%s", f.Name, name, usage)
		if f.DefValue != "" && f.DefValue != "0" {
			fmt.Fprintf(w, " (default %q)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}

// wantsHelp reports whether the flags of a verb ask for its help.
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "-h", "-help", "--help":
			return true
		case "--":
			return false
		}
	}
	return false
}

// loadDocument returns a policy document given as file://PATH (read from
// the file, as the AWS CLI does) or inline.
func loadDocument(v string) (string, error) {
	path, ok := strings.CutPrefix(v, "file://")
	if !ok {
		return v, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return string(b), nil
}
