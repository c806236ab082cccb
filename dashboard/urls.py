"""Dashboard URLs: tenant pages under /tenants/<id>/, entity pages under /entities/<id>/."""

from django.contrib.auth import views as auth_views
from django.urls import path

from dashboard import (
    views_contradictions,
    views_entities,
    views_gaps,
    views_graph,
    views_memory,
    views_overview,
    views_playground,
    views_processes,
    views_sessions,
    views_timeline,
)
from dashboard.thread import views as views_thread

app_name = "dashboard"

urlpatterns = [
    path("", views_overview.home, name="home"),
    # For members who are not staff (the admin login only admits staff); LOGIN_URL may point here.
    path("login/", auth_views.LoginView.as_view(template_name="dashboard/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="dashboard:login"), name="logout"),
    path("tenants/<int:tenant_id>/", views_overview.overview, name="overview"),
    path("tenants/<int:tenant_id>/live/", views_overview.overview_live, name="overview_live"),
    path("tenants/<int:tenant_id>/entities/", views_entities.entity_list, name="entities"),
    path("tenants/<int:tenant_id>/playground/", views_playground.playground, name="playground"),
    path("entities/<int:entity_id>/", views_entities.entity_home, name="entity"),
    path("entities/<int:entity_id>/graph/", views_graph.graph, name="graph"),
    path("entities/<int:entity_id>/graph/nodes/<int:node_id>/", views_graph.graph_node, name="graph_node"),
    path("entities/<int:entity_id>/processes/", views_processes.process_view, name="processes"),
    path("entities/<int:entity_id>/timeline/", views_timeline.timeline, name="timeline"),
    path("entities/<int:entity_id>/sessions/", views_sessions.session_list, name="sessions"),
    path("entities/<int:entity_id>/thread/", views_thread.thread, name="thread"),
    path("entities/<int:entity_id>/thread/live/", views_thread.thread_live, name="thread_live"),
    path("entities/<int:entity_id>/gaps/", views_gaps.handoff_gaps, name="gaps"),
    path("entities/<int:entity_id>/contradictions/", views_contradictions.contradiction_list, name="contradictions"),
    path(
        "contradictions/<int:contradiction_id>/resolve/",
        views_contradictions.contradiction_resolve,
        name="contradiction_resolve",
    ),
    path("sessions/<int:session_id>/", views_sessions.session_detail, name="session"),
    path("sessions/<int:session_id>/live/", views_sessions.session_live, name="session_live"),
    path("memories/<int:memory_id>/", views_memory.memory_detail, name="memory"),
    path("memories/<int:memory_id>/edit/", views_memory.memory_edit, name="memory_edit"),
    path("memories/<int:memory_id>/delete/", views_memory.memory_remove, name="memory_delete"),
    path("memories/<int:memory_id>/restore/", views_memory.memory_restore_current, name="memory_restore"),
]
