// Operator actions on charge points shared by several views.

import { enc, post } from "../api.js";
import { h } from "../dom.js";
import { busy, button, confirmDialog, toast } from "../ui.js";

/** Accept / Reject buttons for a station; `done` runs after a successful change. */
export function registrationButtons(station, done, { size = "sm" } = {}) {
  const buttons = [];
  if (station.registration_status !== "Accepted") {
    const accept = button("Accept", {
      kind: "success",
      size,
      "aria-label": `Accept ${station.id}`,
      onClick: (event) => {
        event.stopPropagation();
        busy(accept, async () => {
          await post(`/api/charge-points/${enc(station.id)}/accept`);
          toast(`${station.id} is accepted: its next BootNotification gets Accepted.`, {
            title: "Station accepted",
          });
          await done();
        });
      },
    });
    buttons.push(accept);
  }
  if (station.registration_status !== "Rejected") {
    const reject = button("Reject", {
      kind: "danger-outline",
      size,
      "aria-label": `Reject ${station.id}`,
      onClick: async (event) => {
        event.stopPropagation();
        const sure = await confirmDialog({
          title: `Reject ${station.id}?`,
          message:
            "The station's messages will be answered with SecurityError until you accept it again.",
          confirmLabel: "Reject station",
          danger: true,
        });
        if (!sure) return;
        busy(reject, async () => {
          await post(`/api/charge-points/${enc(station.id)}/reject`);
          toast(`${station.id} is rejected.`, { title: "Station rejected", tone: "warn" });
          await done();
        });
      },
    });
    buttons.push(reject);
  }
  return h("div", { class: "button-row" }, buttons);
}
