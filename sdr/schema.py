"""drf-spectacular description of our API key authentication."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class WorkspaceAPIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "sdr.auth.WorkspaceAPIKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`; create keys in Settings, API keys, "
            "or with `manage.py create_api_key`.",
        }
