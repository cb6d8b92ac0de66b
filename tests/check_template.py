#!/usr/bin/env python3
"""template.yaml checks cfn-lint cannot know: every function is in one Errors alarm and one
Throttles alarm (alarms group functions, a new function is easily forgotten)."""
import re
import sys

text = open(sys.argv[1] if len(sys.argv) > 1 else "template.yaml").read()
functions = set(re.findall(r"^  (\w+):\n    Type: AWS::Serverless::Function$", text, re.M))
problems = []
for metric in ("Errors", "Throttles"):
    watched = re.findall(
        rf"MetricName: {metric}, Dimensions: \[\{{Name: FunctionName, Value: !Ref (\w+)\}}\]", text
    )
    for f in sorted(functions):
        if watched.count(f) != 1:
            problems.append(f"{f}: in {watched.count(f)} {metric} alarms (want 1)")
    problems += [f"{f}: {metric} alarm on an unknown function" for f in set(watched) - functions]
if not functions:
    problems.append("no AWS::Serverless::Function found")
for p in problems:
    print(f"template.yaml: {p}", file=sys.stderr)
print(f"template.yaml: {len(functions)} functions, each with an errors and a throttles alarm" if not problems else "")
sys.exit(1 if problems else 0)
