// The admin console's frame: its sections and the one open.
import { useEffect, useRef, useState } from 'react';
import { AiSettings } from '../ai';
import type { Me } from '../../lib/api';
import { usePeople } from '../../lib/directory';
import { Catalog } from './Catalog';
import { Groups } from './Groups';
import { Jobs } from './Jobs';
import { People } from './People';
import { Security } from './Security';
import { Sla } from './sla/Sla';

export type Section = 'people' | 'groups' | 'security' | 'sla' | 'catalog' | 'ai' | 'jobs';

const SECTIONS: Record<Section, string> = {
  people: 'People',
  groups: 'Groups',
  security: 'Security',
  sla: 'Service levels',
  catalog: 'Service catalog',
  ai: 'AI settings',
  jobs: 'Jobs',
};

/**
 * The admin console: every setting the API has, by subject. It loads as its own
 * chunk when an admin opens it.
 */
export default function Admin({ me, initial = 'people' }: { me: Me; initial?: Section }) {
  const [section, setSection] = useState<Section>(initial);
  const people = usePeople();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);

  return (
    <div className="admin">
      <h1 ref={heading} tabIndex={-1}>
        Administration
      </h1>
      <nav aria-label="Administration">
        <ul className="admin-nav">
          {Object.entries(SECTIONS).map(([id, label]) => (
            <li key={id}>
              <button type="button" aria-current={section === id ? 'page' : undefined} onClick={() => setSection(id as Section)}>
                {label}
              </button>
            </li>
          ))}
        </ul>
      </nav>
      {section === 'people' && <People me={me} />}
      {section === 'groups' && <Groups />}
      {section === 'security' && <Security people={people} />}
      {section === 'sla' && <Sla people={people} />}
      {section === 'catalog' && <Catalog />}
      {section === 'ai' && <AiSettings />}
      {section === 'jobs' && <Jobs />}
    </div>
  );
}
