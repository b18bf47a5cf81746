// Operator actions on charge points shared by several views.

import { t, tn } from "../i18n.js";

import { enc, post } from "../api.js";
import { h } from "../dom.js";
import { busy, button, confirmDialog, toast } from "../ui.js";

/** Accept / Reject buttons for a station; `done` runs after a successful change. */
export function registrationButtons(station, done, { size = "sm" } = {}) {
  const buttons = [];
  // What the next BootNotification gets: the decision the operator can change.
  if (station.admission !== "Accepted") {
    const accept = button(t("Accept"), {
      kind: "success",
      size,
      "aria-label": t("Accept {id}", { id: station.id }),
      onClick: (event) => {
        event.stopPropagation();
        busy(accept, async () => {
          await post(`/api/charge-points/${enc(station.id)}/accept`);
          toast(t("{id} is accepted: its next BootNotification gets Accepted.", { id: station.id }), {
            title: t("Station accepted"),
          });
          await done();
        });
      },
    });
    buttons.push(accept);
  }
  if (station.admission !== "Rejected") {
    const reject = button(t("Reject"), {
      kind: "danger-outline",
      size,
      "aria-label": t("Reject {id}", { id: station.id }),
      onClick: async (event) => {
        event.stopPropagation();
        const sure = await confirmDialog({
          title: t("Reject {id}?", { id: station.id }),
          message:
            t("The station's messages will be answered with SecurityError until you accept it again."),
          confirmLabel: t("Reject station"),
          danger: true,
        });
        if (!sure) return;
        busy(reject, async () => {
          await post(`/api/charge-points/${enc(station.id)}/reject`);
          toast(t("{id} is rejected.", { id: station.id }), { title: t("Station rejected"), tone: "warn" });
          await done();
        });
      },
    });
    buttons.push(reject);
  }
  return h("div", { class: "button-row" }, buttons);
}
