#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ecs_cluster_settings
short_description: Set the settings of an existing ECS cluster (Container Insights)
version_added: 1.0.0
description:
  - Gap filled - C(community.aws.ecs_cluster) creates clusters and attaches capacity providers but cannot
    set cluster settings, so Container Insights cannot be enabled with it. This module reads the cluster's
    settings and calls C(UpdateClusterSettings) only when they differ.
  - Supports check mode and diff mode.
options:
  cluster:
    description: Name or ARN of an existing cluster.
    type: str
    required: true
  container_insights:
    description: Value of the C(containerInsights) setting.
    type: str
    choices: [enabled, disabled, enhanced]
    default: enabled
author:
  - ecsops maintainers (@ecsops)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Enable Container Insights
  ecsops.platform.ecs_cluster_settings:
    cluster: prod-ecs
    container_insights: enabled
"""

RETURN = r"""
settings:
  description: The cluster's settings after the call.
  returned: success
  type: list
  elements: dict
  sample: [{"name": "containerInsights", "value": "enabled"}]
"""

try:
    import botocore  # noqa: F401  (imported for AnsibleAWSModule's dependency check)
except ImportError:
    pass

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            cluster=dict(type="str", required=True),
            container_insights=dict(type="str", choices=["enabled", "disabled", "enhanced"], default="enabled"),
        ),
        supports_check_mode=True,
    )
    client = module.client("ecs", retry_decorator=AWSRetry.jittered_backoff())
    cluster = module.params["cluster"]
    wanted = module.params["container_insights"]
    try:
        found = client.describe_clusters(clusters=[cluster], include=["SETTINGS"], aws_retry=True)["clusters"]
    except is_boto3_error_code("ClusterNotFoundException"):
        found = []
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg=f"Could not describe cluster {cluster}")
    found = [c for c in found if c.get("status") == "ACTIVE"]
    if not found:
        if module.check_mode:
            module.exit_json(changed=True, settings=[{"name": "containerInsights", "value": wanted}],
                             msg=f"cluster {cluster} does not exist yet")
        module.fail_json(msg=f"cluster: {cluster} does not exist (create it first)")
    current = {s["name"]: s["value"] for s in found[0].get("settings") or []}
    before = current.get("containerInsights", "disabled")
    diff = {"before": {"containerInsights": before}, "after": {"containerInsights": wanted}}
    if before == wanted:
        module.exit_json(changed=False, settings=found[0].get("settings") or [], diff=diff)
    if module.check_mode:
        module.exit_json(changed=True, settings=[{"name": "containerInsights", "value": wanted}], diff=diff)
    try:
        result = client.update_cluster(
            cluster=cluster, settings=[{"name": "containerInsights", "value": wanted}], aws_retry=True
        )
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Could not update the settings of cluster {cluster}")
    module.exit_json(changed=True, settings=result["cluster"].get("settings") or [], diff=diff)


if __name__ == "__main__":
    main()
