"""/api/v1/ routes of the outreach app."""

from rest_framework.routers import SimpleRouter

from outreach import api
from outreach.replies import api as replies_api

router = SimpleRouter()
router.register("campaigns", api.CampaignViewSet, basename="api-campaign")
router.register("enrollments", api.EnrollmentViewSet, basename="api-enrollment")
router.register("messages", api.MessageViewSet, basename="api-message")
router.register("outcomes", api.OutcomeViewSet, basename="api-outcome")
router.register("mailboxes", api.MailboxViewSet, basename="api-mailbox")
router.register("replies", replies_api.ReplyViewSet, basename="api-reply")

urlpatterns: list = [*router.urls]
