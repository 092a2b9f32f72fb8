"""LocalStack init hook (ready stage): two compatibility fixes where LocalStack's EC2 (moto-ext 5.1.54,
LocalStack 4.9.2 and later) deviates from AWS in a way a correct playbook hits. LocalStack runs every
`*.py` file under /etc/localstack/init/ready.d inside its own process, so the fixes apply to the running
server. Each fix is a no-op once LocalStack behaves like AWS; tests/test_localstack.py notices that.

1. route-table-create-origin: CreateRouteTable answers the `local` route without `Origin`
   (AWS: "CreateRouteTable"); amazon.aws.ec2_vpc_route_table with purge_routes then fails on the
   first run with `Module failed: 'Origin'`. Fix: add <origin>CreateRouteTable</origin> to moto's
   CreateRouteTable response template.
2. natgateway-resource-type: tags of NAT gateways carry resource type `nat-gateway` (AWS: `natgateway`),
   so amazon.aws.ec2_vpc_nat_gateway with `tags` reports changed on every run. Fix: map the `nat`
   id prefix to `natgateway` (the dict is imported by name elsewhere: mutate it in place).

Mount it with:  -v $PWD/molecule/localstack/init/ready.d:/etc/localstack/init/ready.d
"""

import logging

from moto.ec2.responses import route_tables
from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE

LOG = logging.getLogger("ecsops_compat")
_LOCAL = "<gatewayId>local</gatewayId>"
_ORIGIN = "<origin>CreateRouteTable</origin>"

if _ORIGIN not in route_tables.CREATE_ROUTE_TABLE_RESPONSE and _LOCAL in route_tables.CREATE_ROUTE_TABLE_RESPONSE:
    route_tables.CREATE_ROUTE_TABLE_RESPONSE = route_tables.CREATE_ROUTE_TABLE_RESPONSE.replace(_LOCAL, _LOCAL + _ORIGIN)
    LOG.info("ecsops_compat: route-table-create-origin applied")

if EC2_PREFIX_TO_RESOURCE.get("nat") == "nat-gateway":
    EC2_PREFIX_TO_RESOURCE["nat"] = "natgateway"
    LOG.info("ecsops_compat: natgateway-resource-type applied")
