"""`serverless-crud users add|list|remove` and `serverless-crud token`: the user pool's users, and an
ID token for curl.

Against the local pool by default (the one `serverless-crud serve` runs for the state directory: its
AWS endpoint and ids are in `<state-dir>/cognito-idp/local.json`), or against a deployed stack's pool
with `--stack NAME` (its outputs name the pool and client) or `--user-pool-id ID`, with the AWS
credentials and region of the environment. Every failure is one sentence and exit status 1.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ADMIN_GROUP = "admin"
#: Where `serverless-crud serve` says how to reach its user pool (serverless_local.services.cognito.service).
LOCAL_FILE = Path("cognito-idp") / "local.json"
#: The local admin `serve` creates, and where it keeps the generated password.
LOCAL_ADMIN = "admin@example.com"
LOCAL_ADMIN_PASSWORD = Path("cognito-idp") / "admin-password"


class CliError(Exception):
    """A failure the user can act on, said in one sentence."""


@dataclass(frozen=True)
class Pool:
    """The user pool a command works on, and a client of its API."""

    user_pool_id: str
    client_id: str
    cognito: Any
    where: str


def add_commands(commands: Any) -> None:
    """Register `users` and `token` on the CLI's subcommands."""
    users = commands.add_parser(
        "users",
        help="add, list and remove the users of the user pool (the local one by default)",
        description="Manage who may sign in: the local user pool of `serverless-crud serve` by default, "
        "a deployed stack's with --stack or --user-pool-id.",
    )
    actions = users.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add", help="add a user (email verified, password set; --admin: in the admin group)"
    )
    add.add_argument("email", help="the new user's email (their sign-in name, verified)")
    add.add_argument("--admin", action="store_true", help="a member of the admin group (sees every record)")
    _password_option(add)
    listing = actions.add_parser("list", help="list the users, their state and whether they are admins")
    remove = actions.add_parser("remove", help="remove a user (their records stay)")
    remove.add_argument("email", help="the user to remove (their records stay)")
    token = commands.add_parser(
        "token",
        help='print an ID token for EMAIL (prompts for the password): curl -H "Authorization: $TOKEN"',
        description="Sign in with the password flow and print the ID token (valid for an hour).",
    )
    token.add_argument("email", help="the user to sign in as")
    _password_option(token)
    for parser in (add, listing, remove, token):
        _pool_options(parser)


def _password_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input (for scripts)"
    )


def _pool_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", help="a deployed stack: its UserPoolId and UserPoolClientId outputs")
    parser.add_argument("--user-pool-id", help="a user pool on AWS (its first app client signs in)")
    parser.add_argument("--region", help="the AWS region of --stack or --user-pool-id (default: your config)")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get("STATE_DIR") or ".local"),
        help="the local server's state directory (default $STATE_DIR or .local)",
    )


def run(arguments: argparse.Namespace) -> int:
    """Run `users ...` or `token ...`; a failure is one sentence on stderr and exit status 1."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        pool = _pool(arguments)
        if arguments.command == "token":
            print(_token(pool, arguments.email.strip().lower(), _password(arguments, confirm=False)))
        elif arguments.action == "add":
            email = arguments.email.strip().lower()
            _add(pool, email, _password(arguments, confirm=True), admin=arguments.admin)
            print(f"added {email}{' (admin)' if arguments.admin else ''} to {pool.where}")
        elif arguments.action == "list":
            for line in _list(pool):
                print(line)
        else:
            email = arguments.email.strip().lower()
            pool.cognito.admin_delete_user(UserPoolId=pool.user_pool_id, Username=email)
            print(f"removed {email} from {pool.where} (their records stay)")
    except CliError as error:
        print(f"serverless-crud: {error}", file=sys.stderr)
        return 1
    except ClientError as error:
        print(f"serverless-crud: {_sentence(error)}", file=sys.stderr)
        return 1
    except BotoCoreError as error:
        print(f"serverless-crud: cannot reach {_where(arguments)}: {type(error).__name__}", file=sys.stderr)
        return 1
    return 0


def local_admin_token(state_dir: Path) -> str | None:
    """An ID token of the local admin of the server whose state is `state_dir`, or None when that
    server signs nobody in (no local pool: the open mode). Raises CliError when sign-in fails."""
    from botocore.exceptions import BotoCoreError, ClientError

    if not (state_dir / LOCAL_FILE).is_file():
        return None
    try:
        password = (state_dir / LOCAL_ADMIN_PASSWORD).read_text().strip()
    except OSError:
        raise CliError(
            f"cannot read the local admin's password in {state_dir / LOCAL_ADMIN_PASSWORD}"
        ) from None
    local = argparse.Namespace(stack=None, user_pool_id=None, state_dir=state_dir, region=None)
    try:
        return _token(_pool(local), LOCAL_ADMIN, password)
    except ClientError as error:
        raise CliError(f"cannot sign in as the local admin: {_sentence(error)}") from None
    except BotoCoreError:
        raise CliError(f"cannot reach {_where(local)}") from None


def _where(arguments: argparse.Namespace) -> str:
    if arguments.stack or arguments.user_pool_id:
        return "AWS (check your credentials and region)"
    return "the local user pool (is `make run` running?)"


def _pool(arguments: argparse.Namespace) -> Pool:
    import boto3

    if arguments.stack or arguments.user_pool_id:
        session = boto3.session.Session(region_name=arguments.region)
        cognito = session.client("cognito-idp")
        if arguments.stack:
            outputs = _stack_outputs(session, arguments.stack)
            if "UserPoolId" not in outputs:
                raise CliError(
                    f"the stack {arguments.stack} has no user pool (is it deployed with AuthMode=none?)"
                )
            return Pool(outputs["UserPoolId"], outputs.get("UserPoolClientId", ""), cognito, arguments.stack)
        clients = cognito.list_user_pool_clients(UserPoolId=arguments.user_pool_id, MaxResults=1)
        client_id = next((c["ClientId"] for c in clients["UserPoolClients"]), "")
        return Pool(arguments.user_pool_id, client_id, cognito, arguments.user_pool_id)
    path = arguments.state_dir / LOCAL_FILE
    try:
        local = json.loads(path.read_text())
    except (OSError, ValueError):
        raise CliError(
            f"no local user pool in {arguments.state_dir} (start it with `make run`, or give --stack)"
        ) from None
    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=local["endpoint"],
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 (the local endpoint takes any credentials)
    )
    return Pool(local["user_pool_id"], local["client_id"], cognito, "the local user pool")


def _stack_outputs(session: Any, stack: str) -> dict[str, str]:
    from botocore.exceptions import ClientError

    try:
        described = session.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    except ClientError:
        raise CliError(f"no stack named {stack} in this account and region") from None
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def _password(arguments: argparse.Namespace, *, confirm: bool) -> str:
    if arguments.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif not sys.stdin.isatty():
        raise CliError("give the password on standard input with --password-stdin (no terminal to ask on)")
    else:
        password = getpass.getpass("Password: ")
        if confirm and getpass.getpass("Password again: ") != password:
            raise CliError("the two passwords differ; nothing was changed")
    if not password:
        raise CliError("the password is empty")
    return password


def _add(pool: Pool, email: str, password: str, *, admin: bool) -> None:
    from botocore.exceptions import ClientError

    pool.cognito.admin_create_user(
        UserPoolId=pool.user_pool_id,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS",
    )
    try:
        pool.cognito.admin_set_user_password(
            UserPoolId=pool.user_pool_id, Username=email, Password=password, Permanent=True
        )
        if admin:
            pool.cognito.admin_add_user_to_group(
                UserPoolId=pool.user_pool_id, Username=email, GroupName=ADMIN_GROUP
            )
    except ClientError:
        # All or nothing: a user without their password (or group) is not left behind.
        pool.cognito.admin_delete_user(UserPoolId=pool.user_pool_id, Username=email)
        raise


def _list(pool: Pool) -> list[str]:
    admins: set[str] = set()
    for page in pool.cognito.get_paginator("list_users_in_group").paginate(
        UserPoolId=pool.user_pool_id, GroupName=ADMIN_GROUP
    ):
        admins.update(_email(u) for u in page["Users"])
    lines = []
    for page in pool.cognito.get_paginator("list_users").paginate(UserPoolId=pool.user_pool_id):
        for user in page["Users"]:
            email = _email(user)
            state = user.get("UserStatus", "?") if user.get("Enabled", True) else "DISABLED"
            lines.append(f"{email}\t{state}{chr(9) + 'admin' if email in admins else ''}")
    return sorted(lines) or [f"no users in {pool.where}"]


def _email(user: dict[str, Any]) -> str:
    attributes = {a["Name"]: a["Value"] for a in user.get("Attributes", [])}
    return str(attributes.get("email", user.get("Username", ""))).lower()


def _token(pool: Pool, email: str, password: str) -> str:
    if not pool.client_id:
        raise CliError(f"{pool.where} has no app client to sign in with")
    answer = pool.cognito.initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    if "AuthenticationResult" not in answer:
        challenge = answer.get("ChallengeName", "another step")
        raise CliError(f"the user pool asks for {challenge} first: sign in once in the web UI")
    return str(answer["AuthenticationResult"]["IdToken"])


#: Cognito's errors, as a sentence for the person at the terminal.
_SENTENCES = {
    "UsernameExistsException": "a user with that email exists already",
    "UserNotFoundException": "no user has that email",
    "NotAuthorizedException": "wrong email or password (or the user is disabled)",
    "InvalidPasswordException": "the password does not meet the pool's policy: at least 12 characters "
    "with lower and upper case letters, a digit and a symbol; nothing was changed",
    "ResourceNotFoundException": "the user pool (or its admin group) does not exist",
    "InvalidParameterException": "the user pool refused the request",
    "AccessDeniedException": "your AWS credentials may not manage this user pool",
    "UnrecognizedClientException": "your AWS credentials are not valid",
    "TooManyRequestsException": "Cognito throttled the request; try again in a moment",
}


def _sentence(error: Any) -> str:
    code = str(error.response.get("Error", {}).get("Code", ""))
    if code == "InvalidParameterException" and "email" in str(error).lower():
        return "that is not a valid email address"
    if code == "InvalidParameterException" and "flow not enabled" in str(error):
        return "the app client does not allow sign-in with a password (USER_PASSWORD_AUTH)"
    return _SENTENCES.get(code, f"Cognito refused the request ({code or 'unknown error'})")
