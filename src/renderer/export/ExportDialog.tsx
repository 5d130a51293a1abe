// TODO(export engineer): placeholder left by the studio UI; replace with the export dialog.
export default function ExportDialog({ onClose }: { onClose(): void }) {
  return (
    <div className="modal-backdrop" role="dialog" aria-modal="true" aria-label="Export">
      <div className="modal">
        <p className="pad">Export is not built yet.</p>
        <button type="button" className="button" onClick={onClose}>
          Close
        </button>
      </div>
    </div>
  );
}
