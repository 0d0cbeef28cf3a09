"""The deal board under /o/<org_slug>/deals/board/ (namespace "board"): the first
pipeline's, another's, and moving a deal on it."""

from django.urls import path

from sales import board_views as views

app_name = "board"

urlpatterns = [
    path("deals/board/", views.board_page, name="board"),
    path("deals/board/<int:pipeline_id>/", views.board_page, name="pipeline"),
    path("deals/board/<int:pipeline_id>/move/", views.board_move, name="move"),
]
