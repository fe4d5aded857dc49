package iamapi

import (
	"context"

	"github.com/openprofiles/profiles"
)

// operations returns the operations Handler serves, by name.
func (h *handler) operations() map[string]opFunc {
	return map[string]opFunc{
		"CreateUser": op(createUser),
		"GetUser":    op(getUser),
		"ListUsers":  op(listUsers),
		"DeleteUser": op(deleteUser),

		"CreateRole": op(createRole),
		"GetRole":    op(getRole),
		"ListRoles":  op(listRoles),
		"DeleteRole": op(deleteRole),

		"CreateAccessKey": op(createAccessKey),
		"ListAccessKeys":  op(listAccessKeys),
		"UpdateAccessKey": op(updateAccessKey),
		"DeleteAccessKey": op(deleteAccessKey),

		"GetAccessKeyLastUsed": op(getAccessKeyLastUsed),

		"PutUserPolicy":    op(putPolicy(profiles.PrincipalUser)),
		"GetUserPolicy":    op(getPolicy(profiles.PrincipalUser)),
		"ListUserPolicies": op(listPolicies(profiles.PrincipalUser)),
		"DeleteUserPolicy": op(deletePolicy(profiles.PrincipalUser)),

		"PutRolePolicy":    op(putPolicy(profiles.PrincipalRole)),
		"GetRolePolicy":    op(getPolicy(profiles.PrincipalRole)),
		"ListRolePolicies": op(listPolicies(profiles.PrincipalRole)),
		"DeleteRolePolicy": op(deletePolicy(profiles.PrincipalRole)),
	}
}

// Users.

func createUser(ctx context.Context, c *call, in *userNameInput) (any, error) {
	var ck checker
	ck.name("userName", in.UserName, maxPrincipalName)
	if err := ck.err(); err != nil {
		return nil, err
	}
	if err := c.authorize(ctx, c.h.arn(profiles.PrincipalUser, in.UserName)); err != nil {
		return nil, err
	}
	p, err := c.h.svc.CreatePrincipal(ctx, profiles.PrincipalUser, in.UserName)
	if err != nil {
		return nil, serviceError("create user", err)
	}
	return &userOutput{User: userOf(p)}, nil
}

// getUser returns the named user, or the calling user when no name is
// given, as in AWS.
func getUser(ctx context.Context, c *call, in *userNameInput) (any, error) {
	name, err := c.userName(in.UserName)
	if err != nil {
		return nil, err
	}
	if err := c.authorize(ctx, c.h.arn(profiles.PrincipalUser, name)); err != nil {
		return nil, err
	}
	p, err := c.h.svc.GetPrincipal(ctx, profiles.PrincipalUser, name)
	if err != nil {
		return nil, serviceError("get user", err)
	}
	return &userOutput{User: userOf(p)}, nil
}

func listUsers(ctx context.Context, c *call, in *listInput) (any, error) {
	ps, next, err := c.listPrincipals(ctx, profiles.PrincipalUser, in)
	if err != nil {
		return nil, err
	}
	out := &listUsersOutput{Users: make([]user, 0, len(ps)), IsTruncated: next != "", Marker: next}
	for _, p := range ps {
		out.Users = append(out.Users, userOf(p))
	}
	return out, nil
}

func deleteUser(ctx context.Context, c *call, in *userNameInput) (any, error) {
	return c.deletePrincipal(ctx, profiles.PrincipalUser, "userName", in.UserName)
}

// Roles.

func createRole(ctx context.Context, c *call, in *roleNameInput) (any, error) {
	var ck checker
	ck.name("roleName", in.RoleName, maxPrincipalName)
	if err := ck.err(); err != nil {
		return nil, err
	}
	if err := c.authorize(ctx, c.h.arn(profiles.PrincipalRole, in.RoleName)); err != nil {
		return nil, err
	}
	p, err := c.h.svc.CreatePrincipal(ctx, profiles.PrincipalRole, in.RoleName)
	if err != nil {
		return nil, serviceError("create role", err)
	}
	return &roleOutput{Role: roleOf(p)}, nil
}

func getRole(ctx context.Context, c *call, in *roleNameInput) (any, error) {
	var ck checker
	ck.name("roleName", in.RoleName, maxPrincipalName)
	if err := ck.err(); err != nil {
		return nil, err
	}
	if err := c.authorize(ctx, c.h.arn(profiles.PrincipalRole, in.RoleName)); err != nil {
		return nil, err
	}
	p, err := c.h.svc.GetPrincipal(ctx, profiles.PrincipalRole, in.RoleName)
	if err != nil {
		return nil, serviceError("get role", err)
	}
	return &roleOutput{Role: roleOf(p)}, nil
}

func listRoles(ctx context.Context, c *call, in *listInput) (any, error) {
	ps, next, err := c.listPrincipals(ctx, profiles.PrincipalRole, in)
	if err != nil {
		return nil, err
	}
	out := &listRolesOutput{Roles: make([]role, 0, len(ps)), IsTruncated: next != "", Marker: next}
	for _, p := range ps {
		out.Roles = append(out.Roles, roleOf(p))
	}
	return out, nil
}

func deleteRole(ctx context.Context, c *call, in *roleNameInput) (any, error) {
	return c.deletePrincipal(ctx, profiles.PrincipalRole, "roleName", in.RoleName)
}

func (c *call) listPrincipals(ctx context.Context, typ string, in *listInput) ([]*profiles.Principal, string, error) {
	var ck checker
	ck.page(in.Marker, in.MaxItems)
	if err := ck.err(); err != nil {
		return nil, "", err
	}
	if err := c.authorize(ctx, "*"); err != nil {
		return nil, "", err
	}
	ps, next, err := c.h.svc.ListPrincipals(ctx, typ, profiles.Page{Token: in.Marker, MaxResults: maxItemsOf(in.MaxItems)})
	if err != nil {
		return nil, "", serviceError("list "+typ+"s", err)
	}
	return ps, next, nil
}

func (c *call) deletePrincipal(ctx context.Context, typ, field, name string) (any, error) {
	var ck checker
	ck.name(field, name, maxPrincipalName)
	if err := ck.err(); err != nil {
		return nil, err
	}
	if err := c.authorize(ctx, c.h.arn(typ, name)); err != nil {
		return nil, err
	}
	if err := c.h.svc.DeletePrincipal(ctx, typ, name); err != nil {
		return nil, serviceError("delete "+typ, err)
	}
	return empty{}, nil
}

// userName returns the user an operation names, or the calling user when
// it names none (as AWS does for GetUser and the access-key operations).
// Returns ValidationError when there is neither.
func (c *call) userName(name string) (string, error) {
	var ck checker
	if name == "" {
		if name = userNameOf(c.principal); name == "" {
			return "", validationf("Must specify userName when calling with non-User credentials")
		}
	}
	ck.name("userName", name, maxPrincipalName)
	return name, ck.err()
}

// mustExist checks that a principal of the type exists: the service
// addresses keys and policies by name alone, and names are unique among
// users and roles, so a role must not be reached as a user or the other way
// round. Returns NoSuchEntity.
func (c *call) mustExist(ctx context.Context, typ, name string) error {
	_, err := c.h.svc.GetPrincipal(ctx, typ, name)
	return serviceError("get "+typ, err)
}

// Access keys (users only, as in AWS).

func createAccessKey(ctx context.Context, c *call, in *userNameInput) (any, error) {
	name, err := c.userName(in.UserName)
	if err != nil {
		return nil, err
	}
	if err := c.authorize(ctx, c.h.arn(profiles.PrincipalUser, name)); err != nil {
		return nil, err
	}
	if err := c.mustExist(ctx, profiles.PrincipalUser, name); err != nil {
		return nil, err
	}
	k, secret, err := c.h.svc.CreateAccessKey(ctx, name)
	if err != nil {
		return nil, serviceError("create access key", err)
	}
	return &createAccessKeyOutput{AccessKey: accessKey{UserName: name, AccessKeyId: k.ID, Status: k.Status,
		SecretAccessKey: secret, CreateDate: isoDate(k.CreatedAt)}}, nil
}

func listAccessKeys(ctx context.Context, c *call, in *listForUserInput) (any, error) {
	name, err := c.userName(in.UserName)
	if err != nil {
		return nil, err
	}
	var ck checker
	ck.page(in.Marker, in.MaxItems)
	if err := ck.err(); err != nil {
		return nil, err
	}
	if err := c.authorize(ctx, c.h.arn(profiles.PrincipalUser, name)); err != nil {
		return nil, err
	}
	if err := c.mustExist(ctx, profiles.PrincipalUser, name); err != nil {
		return nil, err
	}
	keys, err := c.h.svc.ListAccessKeys(ctx, name)
	if err != nil {
		return nil, serviceError("list access keys", err)
	}
	keys, next, err := pageOf(keys, func(k *profiles.AccessKey) string { return k.ID }, in.Marker, maxItemsOf(in.MaxItems))
	if err != nil {
		return nil, err
	}
	out := &listAccessKeysOutput{AccessKeyMetadata: make([]accessKeyMetadata, 0, len(keys)), IsTruncated: next != "", Marker: next}
	for _, k := range keys {
		out.AccessKeyMetadata = append(out.AccessKeyMetadata, accessKeyMetadata{UserName: name, AccessKeyId: k.ID,
			Status: k.Status, CreateDate: isoDate(k.CreatedAt)})
	}
	return out, nil
}

func updateAccessKey(ctx context.Context, c *call, in *accessKeyInput) (any, error) {
	name, err := c.accessKeyCall(ctx, in, true)
	if err != nil {
		return nil, err
	}
	if err := c.h.svc.UpdateAccessKey(ctx, name, in.AccessKeyId, in.Status); err != nil {
		return nil, serviceError("update access key", err)
	}
	return empty{}, nil
}

func deleteAccessKey(ctx context.Context, c *call, in *accessKeyInput) (any, error) {
	name, err := c.accessKeyCall(ctx, in, false)
	if err != nil {
		return nil, err
	}
	if err := c.h.svc.DeleteAccessKey(ctx, name, in.AccessKeyId); err != nil {
		return nil, serviceError("delete access key", err)
	}
	return empty{}, nil
}

// getAccessKeyLastUsed answers when a key's signature last verified (to
// the minute; OpenProfiles records no service or region: "N/A"), authorised
// on the key's user. An unknown key is AccessDenied, as on AWS, so that a
// key's existence is not told to callers who may not see it.
func getAccessKeyLastUsed(ctx context.Context, c *call, in *accessKeyInput) (any, error) {
	var ck checker
	ck.accessKeyID(in.AccessKeyId)
	if err := ck.err(); err != nil {
		return nil, err
	}
	// One refusal for a key that does not exist and for one the caller may
	// not see: neither its existence nor its owner is told.
	denied := serviceError("get access key", profiles.Errorf(profiles.EFORBIDDEN, "User: %s is not authorized to perform: iam:GetAccessKeyLastUsed on the access key %s.", c.principal, in.AccessKeyId))
	k, err := c.h.svc.GetAccessKey(ctx, in.AccessKeyId)
	if profiles.ErrorCode(err) == profiles.ENOTFOUND {
		return nil, denied
	} else if err != nil {
		return nil, serviceError("get access key", err)
	}
	if err := c.authorize(ctx, c.h.arn(profiles.PrincipalUser, k.PrincipalName)); err != nil {
		if profiles.ErrorCode(err) == profiles.EFORBIDDEN {
			return nil, denied
		}
		return nil, err
	}
	out := &getAccessKeyLastUsedOutput{UserName: k.PrincipalName, AccessKeyLastUsed: accessKeyLastUsed{ServiceName: "N/A", Region: "N/A"}}
	if !k.LastUsedAt.IsZero() {
		out.AccessKeyLastUsed.LastUsedDate = isoDate(k.LastUsedAt)
	}
	return out, nil
}

// accessKeyCall validates, authorises and checks the user of a call on
// one access key, and returns the user's name.
func (c *call) accessKeyCall(ctx context.Context, in *accessKeyInput, withStatus bool) (string, error) {
	name, err := c.userName(in.UserName)
	if err != nil {
		return "", err
	}
	var ck checker
	ck.accessKeyID(in.AccessKeyId)
	if withStatus {
		ck.status(in.Status)
	}
	if err := ck.err(); err != nil {
		return "", err
	}
	if err := c.authorize(ctx, c.h.arn(profiles.PrincipalUser, name)); err != nil {
		return "", err
	}
	return name, c.mustExist(ctx, profiles.PrincipalUser, name)
}

// Inline policies of users and roles.

// principalField returns the member that names the principal of a policy
// operation on principals of the type, and its value.
func principalField(typ string, in *policyInput) (field, name string) {
	if typ == profiles.PrincipalRole {
		return "roleName", in.RoleName
	}
	return "userName", in.UserName
}

// policyCall validates, authorises and checks the principal of a policy
// operation, and returns the principal's name.
func (c *call) policyCall(ctx context.Context, typ string, in *policyInput, check func(*checker)) (string, error) {
	field, name := principalField(typ, in)
	var ck checker
	ck.name(field, name, maxPrincipalName)
	check(&ck)
	if err := ck.err(); err != nil {
		return "", err
	}
	if err := c.authorize(ctx, c.h.arn(typ, name)); err != nil {
		return "", err
	}
	return name, c.mustExist(ctx, typ, name)
}

func putPolicy(typ string) func(context.Context, *call, *policyInput) (any, error) {
	return func(ctx context.Context, c *call, in *policyInput) (any, error) {
		name, err := c.policyCall(ctx, typ, in, func(ck *checker) {
			ck.name("policyName", in.PolicyName, maxPolicyName)
			ck.policyDocument(in.PolicyDocument)
		})
		if err != nil {
			return nil, err
		}
		// The names are valid: an EINVALID of the service is about the
		// document.
		if err := c.h.svc.PutPolicy(ctx, name, in.PolicyName, in.PolicyDocument); err != nil {
			return nil, policyError(serviceError("put policy", err))
		}
		return empty{}, nil
	}
}

func getPolicy(typ string) func(context.Context, *call, *policyInput) (any, error) {
	return func(ctx context.Context, c *call, in *policyInput) (any, error) {
		name, err := c.policyCall(ctx, typ, in, func(ck *checker) {
			ck.name("policyName", in.PolicyName, maxPolicyName)
		})
		if err != nil {
			return nil, err
		}
		p, err := c.h.svc.GetPolicy(ctx, name, in.PolicyName)
		if err != nil {
			return nil, serviceError("get policy", err)
		}
		if typ == profiles.PrincipalRole {
			return &rolePolicyOutput{RoleName: name, PolicyName: p.PolicyName, PolicyDocument: p.Document}, nil
		}
		return &userPolicyOutput{UserName: name, PolicyName: p.PolicyName, PolicyDocument: p.Document}, nil
	}
}

func listPolicies(typ string) func(context.Context, *call, *listPoliciesInput) (any, error) {
	return func(ctx context.Context, c *call, in *listPoliciesInput) (any, error) {
		name, err := c.policyCall(ctx, typ, &policyInput{UserName: in.UserName, RoleName: in.RoleName}, func(ck *checker) {
			ck.page(in.Marker, in.MaxItems)
		})
		if err != nil {
			return nil, err
		}
		names, err := c.h.svc.ListPolicies(ctx, name)
		if err != nil {
			return nil, serviceError("list policies", err)
		}
		names, next, err := pageOf(names, func(s string) string { return s }, in.Marker, maxItemsOf(in.MaxItems))
		if err != nil {
			return nil, err
		}
		if names == nil {
			names = []string{}
		}
		return &listPoliciesOutput{PolicyNames: names, IsTruncated: next != "", Marker: next}, nil
	}
}

func deletePolicy(typ string) func(context.Context, *call, *policyInput) (any, error) {
	return func(ctx context.Context, c *call, in *policyInput) (any, error) {
		name, err := c.policyCall(ctx, typ, in, func(ck *checker) {
			ck.name("policyName", in.PolicyName, maxPolicyName)
		})
		if err != nil {
			return nil, err
		}
		if err := c.h.svc.DeletePolicy(ctx, name, in.PolicyName); err != nil {
			return nil, serviceError("delete policy", err)
		}
		return empty{}, nil
	}
}
