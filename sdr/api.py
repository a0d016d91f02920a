"""Core API routes: who am I, for which workspace."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from sdr.models import Workspace


class WorkspaceOutput(serializers.ModelSerializer):
    class Meta:
        model = Workspace
        fields = ["id", "name", "slug", "created_at"]


class CurrentWorkspaceApi(APIView):
    """The workspace the credentials act for: a cheap way for a CRM to check its key."""

    @extend_schema(responses=WorkspaceOutput)
    def get(self, request: Request) -> Response:
        return Response(WorkspaceOutput(request.workspace).data)
