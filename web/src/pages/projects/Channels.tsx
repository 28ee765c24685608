// Channels (issue 13). Placeholder until its page is built.
import { ComingSoon } from '../Placeholders';

export function Channels() {
  return <ComingSoon title="Channels" />;
}
