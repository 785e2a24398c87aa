"""Permission-to-edge tables: which IAM actions make which edge. Data, not scattered ifs.

``ACCESS`` maps a data-store node kind to the edge kinds it can receive and, for each, the
actions that make it together with the resource ARN the action is evaluated against
(``{arn}``, ``{region}``, ``{account}``, ``{resource_id}``, ``{name}`` are filled from the
node). An edge exists when any of its actions is allowed (or conditionally allowed).

``ESCALATION_METHODS`` is the privilege-escalation catalogue: each method names the actions it
needs, the shape of its target, and the public references it comes from (the pathfinding.cloud
ids it covers). See ``docs/escalation.md`` (generated from this table).

Examples
--------
>>> [a for a, _ in ACCESS["s3_bucket"]["reads"]]
['s3:GetObject']
>>> len({r for m in ESCALATION_METHODS for r in m.covers}) >= 65
True
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ACCESS", "ESCALATION_METHODS", "EscalationMethod", "KMS_GATED_KINDS", "PROBE_RESOURCE",
           "UNCOLLECTED_WORKLOAD_KINDS"]

#: Workload kinds that escalation methods name but the collector does not gather yet; methods on
#: them make edges only when another loader supplies such resources (with a ``role_arn``).
UNCOLLECTED_WORKLOAD_KINDS = frozenset({"codebuild_project", "cloudformation_stack", "apprunner_service",
                                        "bedrock_code_interpreter", "launch_template"})

_DBUSER = "arn:aws:rds-db:{region}:{account}:dbuser:{resource_id}/*"

#: node kind -> edge kind -> ((action, resource template), ...)
ACCESS: dict[str, dict[str, tuple[tuple[str, str], ...]]] = {
    "s3_bucket": {
        "reads": (("s3:GetObject", "{arn}/*"),),
        "writes": (("s3:PutObject", "{arn}/*"), ("s3:DeleteObject", "{arn}/*")),
        "administers": (("s3:PutBucketPolicy", "{arn}"), ("s3:PutBucketAcl", "{arn}"),
                        ("s3:DeleteBucketPolicy", "{arn}"), ("s3:PutBucketPublicAccessBlock", "{arn}")),
    },
    "rds_instance": {
        "reads": (("rds-db:connect", _DBUSER),),
        "administers": (("rds:ModifyDBInstance", "{arn}"), ("rds:CreateDBSnapshot", "{arn}"),
                        ("rds:DeleteDBInstance", "{arn}")),
    },
    "rds_cluster": {
        "reads": (("rds-db:connect", _DBUSER),),
        "administers": (("rds:ModifyDBCluster", "{arn}"), ("rds:CreateDBClusterSnapshot", "{arn}"),
                        ("rds:DeleteDBCluster", "{arn}")),
    },
    "dynamodb_table": {
        "reads": (("dynamodb:GetItem", "{arn}"), ("dynamodb:Scan", "{arn}"), ("dynamodb:Query", "{arn}"),
                  ("dynamodb:BatchGetItem", "{arn}"), ("dynamodb:ExportTableToPointInTime", "{arn}")),
        "writes": (("dynamodb:PutItem", "{arn}"), ("dynamodb:UpdateItem", "{arn}"),
                   ("dynamodb:DeleteItem", "{arn}"), ("dynamodb:BatchWriteItem", "{arn}")),
        "administers": (("dynamodb:PutResourcePolicy", "{arn}"), ("dynamodb:DeleteTable", "{arn}")),
    },
    "secret": {
        "reads": (("secretsmanager:GetSecretValue", "{arn}"),),
        "writes": (("secretsmanager:PutSecretValue", "{arn}"),),
        "administers": (("secretsmanager:PutResourcePolicy", "{arn}"), ("secretsmanager:DeleteSecret", "{arn}")),
    },
    "kms_key": {
        "decrypts": (("kms:Decrypt", "{arn}"),),
        "administers": (("kms:PutKeyPolicy", "{arn}"), ("kms:CreateGrant", "{arn}"),
                        ("kms:ScheduleKeyDeletion", "{arn}")),
    },
    "rds_snapshot": {
        "reads": (("rds:RestoreDBInstanceFromDBSnapshot", "{arn}"), ("rds:CopyDBSnapshot", "{arn}")),
        "administers": (("rds:ModifyDBSnapshotAttribute", "{arn}"), ("rds:DeleteDBSnapshot", "{arn}")),
    },
    "rds_cluster_snapshot": {
        "reads": (("rds:RestoreDBClusterFromSnapshot", "{arn}"), ("rds:CopyDBClusterSnapshot", "{arn}")),
        "administers": (("rds:ModifyDBClusterSnapshotAttribute", "{arn}"), ("rds:DeleteDBClusterSnapshot", "{arn}")),
    },
    "ebs_snapshot": {
        "reads": (("ec2:CreateVolume", "{arn}"), ("ec2:CopySnapshot", "{arn}")),
        "administers": (("ec2:ModifySnapshotAttribute", "{arn}"), ("ec2:DeleteSnapshot", "{arn}")),
    },
}

#: Kinds whose reads are gated by kms:Decrypt on a customer-managed key (attribute path).
KMS_GATED_KINDS: dict[str, tuple[str, ...]] = {
    "s3_bucket": ("encryption", "kms_key_arn"),
    "dynamodb_table": ("kms_key_arn",),
    "secret": ("kms_key_arn",),
    "rds_snapshot": ("kms_key_arn",),
    "rds_cluster_snapshot": ("kms_key_arn",),
    "ebs_snapshot": ("kms_key_arn",),
}

#: Probe resources for "create"-style actions evaluated without an existing target.
PROBE_RESOURCE = "arn:aws:{service}:{region}:{account}:iamreach-probe/*"


@dataclass(frozen=True, slots=True)
class EscalationMethod:
    """One privilege-escalation method.

    category:
      ``passrole``  — iam:PassRole on a role trusting ``service`` plus ``actions`` (create-style,
                      evaluated on a probe resource); target: the passed role.
      ``workload``  — ``actions`` on an existing workload of ``workload_kinds`` that runs as a
                      role; target: that role.
      ``self``      — ``actions`` on the principal itself (or its own policy / group); target:
                      administrator of its account.
      ``principal`` — ``actions`` on another principal (``target_kind`` user/role); target: it.
      ``amplify``   — ``actions`` on a principal the actor can already act as; target:
                      administrator of that principal's account.
    """

    id: str
    title: str
    category: str
    actions: tuple[str, ...]
    covers: tuple[str, ...]
    reference: str
    service: str | None = None
    workload_kinds: tuple[str, ...] = ()
    target_kind: str | None = None


_RHINO = "https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/"
_PF = "https://pathfinding.cloud/paths/{}"


def _m(id, title, category, actions, covers, *, service=None, workload_kinds=(), target_kind=None, reference=None):
    return EscalationMethod(
        id=id, title=title, category=category, actions=tuple(actions), covers=tuple(covers),
        reference=reference or _PF.format(covers[0]), service=service,
        workload_kinds=tuple(workload_kinds), target_kind=target_kind,
    )


ESCALATION_METHODS: tuple[EscalationMethod, ...] = (
    # --- pass a role to a new compute resource -------------------------------------------------
    _m("passrole-ec2", "PassRole + RunInstances", "passrole", ["ec2:RunInstances"], ["ec2-001"],
       service="ec2.amazonaws.com", reference=_RHINO),
    _m("passrole-ec2-spot", "PassRole + RequestSpotInstances", "passrole", ["ec2:RequestSpotInstances"],
       ["ec2-003"], service="ec2.amazonaws.com"),
    _m("passrole-lambda-invoke", "PassRole + CreateFunction + InvokeFunction", "passrole",
       ["lambda:CreateFunction", "lambda:InvokeFunction"], ["lambda-001"], service="lambda.amazonaws.com",
       reference=_RHINO),
    _m("passrole-lambda-esm", "PassRole + CreateFunction + CreateEventSourceMapping", "passrole",
       ["lambda:CreateFunction", "lambda:CreateEventSourceMapping"], ["lambda-002"], service="lambda.amazonaws.com"),
    _m("passrole-lambda-addperm", "PassRole + CreateFunction + AddPermission", "passrole",
       ["lambda:CreateFunction", "lambda:AddPermission"], ["lambda-006"], service="lambda.amazonaws.com"),
    _m("passrole-glue-devendpoint", "PassRole + CreateDevEndpoint", "passrole", ["glue:CreateDevEndpoint"],
       ["glue-001"], service="glue.amazonaws.com", reference=_RHINO),
    _m("passrole-glue-job-run", "PassRole + CreateJob + StartJobRun", "passrole",
       ["glue:CreateJob", "glue:StartJobRun"], ["glue-003"], service="glue.amazonaws.com"),
    _m("passrole-glue-job-trigger", "PassRole + CreateJob + CreateTrigger", "passrole",
       ["glue:CreateJob", "glue:CreateTrigger"], ["glue-004"], service="glue.amazonaws.com"),
    _m("passrole-glue-updatejob-run", "PassRole + UpdateJob + StartJobRun", "passrole",
       ["glue:UpdateJob", "glue:StartJobRun"], ["glue-005"], service="glue.amazonaws.com"),
    _m("passrole-glue-updatejob-trigger", "PassRole + UpdateJob + CreateTrigger", "passrole",
       ["glue:UpdateJob", "glue:CreateTrigger"], ["glue-006"], service="glue.amazonaws.com"),
    _m("passrole-cloudformation", "PassRole + CreateStack", "passrole", ["cloudformation:CreateStack"],
       ["cloudformation-001"], service="cloudformation.amazonaws.com", reference=_RHINO),
    _m("passrole-cloudformation-stackset", "PassRole + CreateStackSet + CreateStackInstances", "passrole",
       ["cloudformation:CreateStackSet", "cloudformation:CreateStackInstances"], ["cloudformation-003"],
       service="cloudformation.amazonaws.com"),
    _m("passrole-cloudformation-updatestackset", "PassRole + UpdateStackSet", "passrole",
       ["cloudformation:UpdateStackSet"], ["cloudformation-004"], service="cloudformation.amazonaws.com"),
    _m("passrole-codebuild", "PassRole + CreateProject + StartBuild", "passrole",
       ["codebuild:CreateProject", "codebuild:StartBuild"], ["codebuild-001"], service="codebuild.amazonaws.com"),
    _m("passrole-codebuild-batch", "PassRole + CreateProject + StartBuildBatch", "passrole",
       ["codebuild:CreateProject", "codebuild:StartBuildBatch"], ["codebuild-004"], service="codebuild.amazonaws.com"),
    _m("passrole-datapipeline", "PassRole + CreatePipeline + PutPipelineDefinition + ActivatePipeline", "passrole",
       ["datapipeline:CreatePipeline", "datapipeline:PutPipelineDefinition", "datapipeline:ActivatePipeline"],
       ["datapipeline-001"], service="datapipeline.amazonaws.com", reference=_RHINO),
    _m("passrole-ecs-service", "PassRole + CreateCluster + RegisterTaskDefinition + CreateService", "passrole",
       ["ecs:CreateCluster", "ecs:RegisterTaskDefinition", "ecs:CreateService"], ["ecs-001"],
       service="ecs-tasks.amazonaws.com"),
    _m("passrole-ecs-runtask-newcluster", "PassRole + CreateCluster + RegisterTaskDefinition + RunTask", "passrole",
       ["ecs:CreateCluster", "ecs:RegisterTaskDefinition", "ecs:RunTask"], ["ecs-002"],
       service="ecs-tasks.amazonaws.com"),
    _m("passrole-ecs-createservice", "PassRole + RegisterTaskDefinition + CreateService", "passrole",
       ["ecs:RegisterTaskDefinition", "ecs:CreateService"], ["ecs-003"], service="ecs-tasks.amazonaws.com"),
    _m("passrole-ecs-runtask", "PassRole + RegisterTaskDefinition + RunTask", "passrole",
       ["ecs:RegisterTaskDefinition", "ecs:RunTask"], ["ecs-004"], service="ecs-tasks.amazonaws.com"),
    _m("passrole-ecs-starttask", "PassRole + RegisterTaskDefinition + StartTask", "passrole",
       ["ecs:RegisterTaskDefinition", "ecs:StartTask"], ["ecs-005"], service="ecs-tasks.amazonaws.com"),
    _m("passrole-sagemaker-notebook", "PassRole + CreateNotebookInstance", "passrole",
       ["sagemaker:CreateNotebookInstance"], ["sagemaker-001"], service="sagemaker.amazonaws.com"),
    _m("passrole-sagemaker-training", "PassRole + CreateTrainingJob", "passrole", ["sagemaker:CreateTrainingJob"],
       ["sagemaker-002"], service="sagemaker.amazonaws.com"),
    _m("passrole-sagemaker-processing", "PassRole + CreateProcessingJob", "passrole",
       ["sagemaker:CreateProcessingJob"], ["sagemaker-003"], service="sagemaker.amazonaws.com"),
    _m("passrole-apprunner", "PassRole + CreateService (App Runner)", "passrole", ["apprunner:CreateService"],
       ["apprunner-001"], service="tasks.apprunner.amazonaws.com"),
    _m("passrole-bedrock-codeinterpreter", "PassRole + CreateCodeInterpreter + Start/InvokeCodeInterpreter",
       "passrole", ["bedrock-agentcore:CreateCodeInterpreter", "bedrock-agentcore:StartCodeInterpreterSession",
                    "bedrock-agentcore:InvokeCodeInterpreter"], ["bedrock-001"],
       service="bedrock-agentcore.amazonaws.com"),
    _m("passrole-sfn", "PassRole + CreateStateMachine + StartExecution", "passrole",
       ["states:CreateStateMachine", "states:StartExecution"], ["sfn-passrole"], service="states.amazonaws.com",
       reference="https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html"),
    _m("changeset-cloudformation", "CreateChangeSet + ExecuteChangeSet on a stack with a service role",
       "workload", ["cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet"], ["cloudformation-005"],
       workload_kinds=["cloudformation_stack"]),
    # --- take over an existing workload that runs as a role ------------------------------------
    _m("workload-ec2-modify-userdata", "ModifyInstanceAttribute + Stop/StartInstances (user data)", "workload",
       ["ec2:ModifyInstanceAttribute", "ec2:StopInstances", "ec2:StartInstances"], ["ec2-002"],
       workload_kinds=["ec2_instance"]),
    _m("workload-ec2-launchtemplate", "CreateLaunchTemplateVersion + ModifyLaunchTemplate", "workload",
       ["ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate"], ["ec2-004"],
       workload_kinds=["launch_template"]),
    _m("workload-ec2-instance-connect", "SendSSHPublicKey to an instance with a profile", "workload",
       ["ec2-instance-connect:SendSSHPublicKey"], ["ec2instanceconnect-003"], workload_kinds=["ec2_instance"]),
    _m("workload-ssm-session", "ssm:StartSession on an instance with a profile", "workload",
       ["ssm:StartSession"], ["ssm-001"], workload_kinds=["ec2_instance"]),
    _m("workload-ssm-sendcommand", "ssm:SendCommand on an instance with a profile", "workload",
       ["ssm:SendCommand"], ["ssm-002"], workload_kinds=["ec2_instance"]),
    _m("workload-lambda-updatecode", "UpdateFunctionCode (triggered by its existing events)", "workload",
       ["lambda:UpdateFunctionCode"], ["lambda-003"], workload_kinds=["lambda_function"]),
    _m("workload-lambda-updatecode-invoke", "UpdateFunctionCode + InvokeFunction", "workload",
       ["lambda:UpdateFunctionCode", "lambda:InvokeFunction"], ["lambda-004"], workload_kinds=["lambda_function"]),
    _m("workload-lambda-updatecode-addperm", "UpdateFunctionCode + AddPermission", "workload",
       ["lambda:UpdateFunctionCode", "lambda:AddPermission"], ["lambda-005"], workload_kinds=["lambda_function"]),
    _m("workload-glue-devendpoint", "UpdateDevEndpoint (add an SSH key)", "workload", ["glue:UpdateDevEndpoint"],
       ["glue-002"], workload_kinds=["glue_dev_endpoint"], reference=_RHINO),
    _m("workload-sagemaker-presigned", "CreatePresignedNotebookInstanceUrl", "workload",
       ["sagemaker:CreatePresignedNotebookInstanceUrl"], ["sagemaker-004"], workload_kinds=["sagemaker_notebook"]),
    _m("workload-sagemaker-lifecycle", "Lifecycle config + Stop/Update/StartNotebookInstance", "workload",
       ["sagemaker:CreateNotebookInstanceLifecycleConfig", "sagemaker:StopNotebookInstance",
        "sagemaker:UpdateNotebookInstance", "sagemaker:StartNotebookInstance"], ["sagemaker-005"],
       workload_kinds=["sagemaker_notebook"]),
    _m("workload-codebuild-startbuild", "StartBuild with a buildspec override", "workload",
       ["codebuild:StartBuild"], ["codebuild-002"], workload_kinds=["codebuild_project"]),
    _m("workload-codebuild-startbuildbatch", "StartBuildBatch with a buildspec override", "workload",
       ["codebuild:StartBuildBatch"], ["codebuild-003"], workload_kinds=["codebuild_project"]),
    _m("workload-cloudformation-updatestack", "UpdateStack on a stack with a service role", "workload",
       ["cloudformation:UpdateStack"], ["cloudformation-002"], workload_kinds=["cloudformation_stack"]),
    _m("workload-apprunner-update", "UpdateService (App Runner)", "workload", ["apprunner:UpdateService"],
       ["apprunner-002"], workload_kinds=["apprunner_service"]),
    _m("workload-bedrock-codeinterpreter", "Start/InvokeCodeInterpreter on an existing interpreter", "workload",
       ["bedrock-agentcore:StartCodeInterpreterSession", "bedrock-agentcore:InvokeCodeInterpreter"],
       ["bedrock-002"], workload_kinds=["bedrock_code_interpreter"]),
    # --- change one's own permissions ----------------------------------------------------------
    _m("self-createpolicyversion", "CreatePolicyVersion on a policy attached to oneself", "self",
       ["iam:CreatePolicyVersion"], ["iam-001"], target_kind="policy", reference=_RHINO),
    _m("self-putrolepolicy", "PutRolePolicy on one's own role", "self", ["iam:PutRolePolicy"], ["iam-005"],
       target_kind="role"),
    _m("self-putuserpolicy", "PutUserPolicy on oneself", "self", ["iam:PutUserPolicy"], ["iam-007"],
       target_kind="user"),
    _m("self-attachuserpolicy", "AttachUserPolicy on oneself", "self", ["iam:AttachUserPolicy"], ["iam-008"],
       target_kind="user"),
    _m("self-attachrolepolicy", "AttachRolePolicy on one's own role", "self", ["iam:AttachRolePolicy"],
       ["iam-009"], target_kind="role"),
    _m("self-attachgrouppolicy", "AttachGroupPolicy on one's own group", "self", ["iam:AttachGroupPolicy"],
       ["iam-010"], target_kind="group"),
    _m("self-putgrouppolicy", "PutGroupPolicy on one's own group", "self", ["iam:PutGroupPolicy"], ["iam-011"],
       target_kind="group"),
    _m("self-addusertogroup", "AddUserToGroup (oneself into a more privileged group)", "self",
       ["iam:AddUserToGroup"], ["iam-013"], target_kind="any_group"),
    _m("self-setdefaultpolicyversion", "SetDefaultPolicyVersion on a policy attached to oneself", "self",
       ["iam:SetDefaultPolicyVersion"], ["iam-setdefaultpolicyversion"], target_kind="policy", reference=_RHINO),
    _m("self-deleteboundary", "Delete one's own permissions boundary", "self",
       ["iam:DeleteRolePermissionsBoundary"], ["iam-deleteboundary"], target_kind="role",
       reference="https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html"),
    # --- take over another principal -------------------------------------------------------------
    _m("principal-createaccesskey", "CreateAccessKey for another user", "principal", ["iam:CreateAccessKey"],
       ["iam-002", "iam-003"], target_kind="user", reference=_RHINO),
    _m("principal-createloginprofile", "CreateLoginProfile for another user", "principal",
       ["iam:CreateLoginProfile"], ["iam-004"], target_kind="user", reference=_RHINO),
    _m("principal-updateloginprofile", "UpdateLoginProfile for another user", "principal",
       ["iam:UpdateLoginProfile"], ["iam-006"], target_kind="user", reference=_RHINO),
    _m("principal-updateassumerolepolicy", "UpdateAssumeRolePolicy on a role", "principal",
       ["iam:UpdateAssumeRolePolicy"], ["iam-012"], target_kind="role", reference=_RHINO),
    _m("principal-assumerole", "sts:AssumeRole (trust policy + caller's permissions)", "principal",
       ["sts:AssumeRole"], ["sts-001"], target_kind="role",
       reference="https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use.html"),
    # --- widen a principal one can already act as -------------------------------------------------
    _m("amplify-attachrolepolicy", "AttachRolePolicy on a role one can assume", "amplify",
       ["iam:AttachRolePolicy"], ["iam-014", "iam-019"], target_kind="role"),
    _m("amplify-putrolepolicy", "PutRolePolicy on a role one can assume", "amplify", ["iam:PutRolePolicy"],
       ["iam-017", "iam-021"], target_kind="role"),
    _m("amplify-createpolicyversion", "CreatePolicyVersion of a policy on a role one can assume", "amplify",
       ["iam:CreatePolicyVersion"], ["iam-016", "iam-020"], target_kind="role_policy"),
    _m("amplify-attachuserpolicy", "AttachUserPolicy on a user one can act as", "amplify",
       ["iam:AttachUserPolicy"], ["iam-015"], target_kind="user"),
    _m("amplify-putuserpolicy", "PutUserPolicy on a user one can act as", "amplify", ["iam:PutUserPolicy"],
       ["iam-018"], target_kind="user"),
)


def escalation_markdown() -> str:
    """``docs/escalation.md``: the escalation catalogue, generated from :data:`ESCALATION_METHODS`."""
    cats = {
        "passrole": "iam:PassRole of a role trusting the service, plus the create/run actions; target: the passed role",
        "workload": "actions on an existing workload, decided with its resource policy (a Lambda function's); target: the role it runs as",
        "self": "change one's own permissions; target: the account's administrator node",
        "principal": "take over another principal; target: that user or role",
        "amplify": "widen a principal one can already act as; target: the account's administrator node",
    }
    out = ["# Privilege-escalation methods", "",
           "Generated from `iamreach/graph/tables.py` by `python -m iamreach.graph.tables > docs/escalation.md`.",
           "Every method becomes `escalates_to` edges whose `method` attribute is the id below; each action",
           "is decided by the policy engine for the acting principal, on the exact resource it applies to.",
           "The public yardstick is the pathfinding.cloud catalogue (65 paths): every path id is covered",
           "(`tests/test_scenarios_escalation.py` checks it against `../shared/reference/pathfinding-cloud`).",
           "", "| category | meaning |", "|---|---|"]
    out += [f"| `{k}` | {v} |" for k, v in cats.items()]
    out += ["", "| id | method | category | actions | covers | reference |", "|---|---|---|---|---|---|"]
    for m in ESCALATION_METHODS:
        extra = f" (trusting `{m.service}`)" if m.service else ""
        if m.workload_kinds:
            extra += " on " + ", ".join(f"`{k}`" for k in m.workload_kinds)
        out.append(f"| `{m.id}` | {m.title}{extra} | {m.category} | {', '.join(f'`{a}`' for a in m.actions)} | "
                   f"{', '.join(m.covers)} | [link]({m.reference}) |")
    out += ["", "Workload kinds the collector does not gather yet (methods on them produce edges only when",
            "another loader supplies such resources with a `role_arn`): "
            + ", ".join(f"`{k}`" for k in sorted(UNCOLLECTED_WORKLOAD_KINDS)) + "."]
    return "\n".join(out) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(escalation_markdown(), end="")
