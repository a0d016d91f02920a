from django.urls import path

from billing import views

urlpatterns = [
    path("", views.billing_page, name="billing"),
    path("events/<str:pk>/dispute/", views.billing_dispute, name="billing-dispute"),
    path("checkout/", views.billing_checkout, name="billing-checkout"),
    path("portal/", views.billing_portal, name="billing-portal"),
    path("cap/", views.billing_cap, name="billing-cap"),
    path("stripe/webhook/", views.stripe_webhook, name="stripe-webhook"),
]
