"""Policy files (data) and the pure evaluator of facts against them."""
