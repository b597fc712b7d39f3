# The docs as an operator uses them: every configuration snippet of README
# and docs/*.md through apache2 -t with this build's modules
# (check-doc-snippets), every log id and error code the sources can emit in
# the docs' tables (check-doc-ids), scripts/idgw-keys (check-idgw-keys).
# scripts/idgw-keys: the first-run keys (idgw-tools installs it as
# /usr/bin/idgw-keys); listed here, beside its test, with the checks.
EXTRA_DIST += scripts/idgw-keys t/unit/docs/check-doc-snippets t/unit/docs/check-doc-ids \
	t/unit/docs/check-idgw-keys
TESTS += t/unit/docs/check-doc-snippets t/unit/docs/check-doc-ids t/unit/docs/check-idgw-keys
