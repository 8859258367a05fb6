from django.urls import path

from accounting import views

urlpatterns = [
    path("", views.home, name="home"),
]
