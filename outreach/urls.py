"""Web UI routes of the outreach app."""

from django.urls import path

from outreach import views
from outreach.replies import views as reply_views

urlpatterns: list = [
    path("campaigns/", views.campaign_list, name="campaign-list"),
    path("campaigns/new/", views.campaign_new, name="campaign-new"),
    path("campaigns/<uuid:pk>/", views.campaign_detail, name="campaign-detail"),
    path("campaigns/<uuid:pk>/edit/", views.campaign_edit, name="campaign-edit"),
    path("campaigns/<uuid:pk>/enroll/", views.campaign_enroll, name="campaign-enroll"),
    path("campaigns/<uuid:pk>/steps/", views.campaign_steps, name="campaign-steps"),
    path("campaigns/<uuid:pk>/counts/", views.campaign_counts, name="campaign-counts"),
    path("campaigns/<uuid:pk>/preview/", views.campaign_preview, name="campaign-preview"),
    path("campaigns/<uuid:pk>/archive/", views.campaign_archive, name="campaign-archive"),
    path("mailboxes/", views.mailbox_list, name="mailbox-list"),
    path("mailboxes/new/", views.mailbox_new, name="mailbox-new"),
    path("mailboxes/<uuid:pk>/", views.mailbox_edit, name="mailbox-edit"),
    path("mailboxes/<uuid:pk>/test/", views.mailbox_check, name="mailbox-test"),
    path("review/", views.review_queue, name="review-queue"),
    path("review/<uuid:pk>/", views.message_review, name="message-review"),
    path("review/<uuid:pk>/act/", views.message_act, name="message-act"),
    path("review/<uuid:pk>/undo/", views.message_undo, name="message-undo"),
    path("review/<uuid:pk>/settle/", views.message_settle, name="message-settle"),
    path("replies/", reply_views.reply_inbox, name="reply-inbox"),
    path("replies/<uuid:pk>/", reply_views.reply_detail, name="reply-detail"),
    path("replies/<uuid:pk>/category/", reply_views.reply_category, name="reply-category"),
    path("replies/<uuid:pk>/answer/", reply_views.reply_answer, name="reply-answer"),
]
