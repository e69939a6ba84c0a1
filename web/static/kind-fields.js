// The window's recording form (officer/window.html): only the fields of the kind chosen in the form's kind list are
// shown. Without this script every field shows, each with a hint naming the kinds it is for; the server reads only
// the chosen kind's fields whatever is posted.
(function () {
  function update(select) {
    var chosen = select.value;
    var blocks = select.form.querySelectorAll("[data-for-kinds]");
    for (var i = 0; i < blocks.length; i++) {
      var kinds = blocks[i].getAttribute("data-for-kinds").split(" ");
      blocks[i].hidden = kinds.indexOf(chosen) < 0;
    }
  }
  var selects = document.querySelectorAll("select[data-kind-choice]");
  for (var i = 0; i < selects.length; i++) {
    update(selects[i]);
    selects[i].addEventListener("change", function (event) { update(event.target); });
  }
})();
